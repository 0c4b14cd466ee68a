package dev.scopegate.loadtest.jmh;

import dev.scopegate.proxy.codec.RequestTarget;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The frontend's check of the request target's bytes ({@code RequestTarget.isValid}), run once
 * per request before routing, over the seed's authorization requests: the first connect with its
 * scope (about 400 characters) and the reconnect without it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m"})
@State(Scope.Thread)
public class RequestTargetBenchmark {

    /** Fields, not constants: the JIT must not fold the check away. */
    private String connect = Fixture.PATH + "?" + Fixture.CONNECT_QUERY;
    private String reconnect = Fixture.RECONNECT_URI;

    @Benchmark
    public boolean connectTarget() {
        return RequestTarget.isValid(connect);
    }

    @Benchmark
    public boolean reconnectTarget() {
        return RequestTarget.isValid(reconnect);
    }
}
