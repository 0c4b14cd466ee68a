package dev.scopegate.proxy.upstream;

import io.netty.resolver.AbstractAddressResolver;
import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Resolves upstream host names without blocking an event loop: IP literals are converted in
 * place, names are looked up with the JDK resolver (which honours {@code /etc/hosts} and the
 * JVM's DNS cache) on {@code blockingExecutor}.
 */
public final class OffLoopResolverGroup extends AddressResolverGroup<InetSocketAddress> {

    private final Executor blockingExecutor;

    public OffLoopResolverGroup(Executor blockingExecutor) {
        this.blockingExecutor = Objects.requireNonNull(blockingExecutor, "blockingExecutor");
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
        return new AbstractAddressResolver<>(executor, InetSocketAddress.class) {
            @Override
            protected boolean doIsResolved(InetSocketAddress address) {
                return !address.isUnresolved();
            }

            @Override
            protected void doResolve(InetSocketAddress unresolved, Promise<InetSocketAddress> promise) {
                String host = unresolved.getHostString();
                byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
                if (literal != null) {
                    try {
                        promise.setSuccess(new InetSocketAddress(InetAddress.getByAddress(host, literal), unresolved.getPort()));
                    } catch (UnknownHostException e) {
                        promise.setFailure(e);
                    }
                    return;
                }
                blockingExecutor.execute(() -> {
                    try {
                        promise.trySuccess(new InetSocketAddress(InetAddress.getByName(host), unresolved.getPort()));
                    } catch (UnknownHostException | RuntimeException e) {
                        promise.tryFailure(e);
                    }
                });
            }

            @Override
            protected void doResolveAll(InetSocketAddress unresolved, Promise<List<InetSocketAddress>> promise) {
                String host = unresolved.getHostString();
                blockingExecutor.execute(() -> {
                    try {
                        promise.trySuccess(Arrays.stream(InetAddress.getAllByName(host))
                                .map(a -> new InetSocketAddress(a, unresolved.getPort())).toList());
                    } catch (UnknownHostException | RuntimeException e) {
                        promise.tryFailure(e);
                    }
                });
            }
        };
    }
}
