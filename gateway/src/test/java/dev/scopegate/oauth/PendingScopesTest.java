package dev.scopegate.oauth;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class PendingScopesTest {

    static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    static final String CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    final AtomicLong nanos = new AtomicLong();
    final PendingScopes pending = new PendingScopes(100, Duration.ofMinutes(10), nanos::get);

    @Test
    void s256MatchesRfc7636AppendixB() {
        assertThat(PendingScopes.s256(VERIFIER)).isEqualTo(CHALLENGE);
    }

    @Test
    void confirmedOnceByTheVerifierOfTheSameFlow() {
        pending.remember("c1", CHALLENGE, "a b");
        assertThat(pending.confirm("c2", VERIFIER)).isNull(); // another client
        assertThat(pending.confirm("c1", "wrong-verifier")).isNull();
        assertThat(pending.confirm("c1", VERIFIER)).isEqualTo("a b");
        assertThat(pending.confirm("c1", VERIFIER)).isNull(); // used up
    }

    @Test
    void plainChallengesWork() {
        pending.remember("c1", "plain-verifier", "x");
        assertThat(pending.confirm("c1", "plain-verifier")).isEqualTo("x");
    }

    @Test
    void entriesExpire() {
        pending.remember("c1", CHALLENGE, "a");
        nanos.addAndGet(TimeUnit.MINUTES.toNanos(11));
        assertThat(pending.confirm("c1", VERIFIER)).isNull();
    }

    @Test
    void blankInputsAreIgnored() {
        pending.remember(null, CHALLENGE, "a");
        pending.remember("c1", null, "a");
        pending.remember("c1", CHALLENGE, " ");
        assertThat(pending.size()).isZero();
        assertThat(pending.confirm("c1", null)).isNull();
    }

}
