package dev.scopegate.model;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

class RegistrationInternerTest {

    private static final Instant T0 = Instant.parse("2025-11-25T10:00:00Z");

    /** A registration whose every string is a fresh instance, as parsed from a store or an IdP's answer. */
    private static Registration parsed(String id, String scope, String learned) {
        return new Registration(new String(id), fresh(scope), List.of(fresh("https://chatgpt.com/cb")),
                List.of(fresh("authorization_code"), fresh("refresh_token")), fresh("ChatGPT"),
                fresh("https://idp.example.com/oauth/register/") + id, fresh(learned), T0, T0.plusSeconds(1));
    }

    private static String fresh(String s) {
        return s == null ? null : new String(s);
    }

    @Test
    void clientsRegisteredAlikeShareTheirMetadataAndStayEqual() {
        RegistrationInterner interner = new RegistrationInterner(1 << 20, Runnable::run);
        Registration a = parsed("c1", "a b", "a");
        Registration b = parsed("c2", "a b", "a");

        Registration ia = interner.intern(a);
        Registration ib = interner.intern(b);

        assertThat(ia).isEqualTo(a);
        assertThat(ib).isEqualTo(b);
        assertThat(ib.scope()).isSameAs(ia.scope());
        assertThat(ib.redirectUris()).isSameAs(ia.redirectUris());
        assertThat(ib.grantTypes()).isSameAs(ia.grantTypes());
        assertThat(ib.clientName()).isSameAs(ia.clientName());
        assertThat(ib.learnedScope()).isSameAs(ia.learnedScope());
        assertThat(ib.clientId()).isSameAs(b.clientId());
        assertThat(ib.registrationClientUri()).isEqualTo("https://idp.example.com/oauth/register/c2");
        assertThat(interner.intern(ib)).isSameAs(ib);
    }

    @Test
    void partsAreSharedEvenWhenTheWholeDiffers() {
        RegistrationInterner interner = new RegistrationInterner(1 << 20, Runnable::run);
        Registration a = interner.intern(parsed("c1", "a b", null));
        Registration b = interner.intern(new Registration("c2", new String("a b"), List.of("http://localhost:4242/cb"),
                List.of(new String("authorization_code"), new String("refresh_token")), null, null, null, T0, T0));

        assertThat(b.scope()).isSameAs(a.scope());
        assertThat(b.grantTypes()).isSameAs(a.grantTypes());
        assertThat(b.redirectUris()).containsExactly("http://localhost:4242/cb");
    }

    @Test
    void staysWithinItsBoundWhateverItIsFed() {
        long max = 64 * 1024;
        RegistrationInterner interner = new RegistrationInterner(max, Runnable::run);
        for (int i = 0; i < 20_000; i++) {
            Registration r = new Registration("c" + i, "scope-" + i, List.of("http://localhost:" + i + "/cb"),
                    List.of("authorization_code"), "app " + i, "https://idp/" + i, "learned-" + i, T0, T0);
            assertThat(interner.intern(r)).isEqualTo(r);
        }
        assertThat(interner.weightedSize()).isLessThanOrEqualTo(max);
        assertThat(interner.estimatedSize()).isLessThan(20_000);

        RegistrationInterner none = new RegistrationInterner(0, Runnable::run);
        Registration r = parsed("c1", "a", "b");
        assertThat(none.intern(r)).isEqualTo(r);
        assertThat(none.weightedSize()).isZero();
    }

    @Test
    void concurrentInterningYieldsOneCanonicalCopy() throws Exception {
        RegistrationInterner interner = new RegistrationInterner(1 << 20, Runnable::run);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        Set<Object> scopes = ConcurrentHashMap.newKeySet();
        Set<Object> uriLists = ConcurrentHashMap.newKeySet();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 2_000; i++) {
                        Registration r = parsed("c" + thread + "-" + i, "shared scope", "learned");
                        Registration shared = interner.intern(r);
                        assertThat(shared).isEqualTo(r);
                        scopes.add(new Identity(shared.scope()));
                        uriLists.add(new Identity(shared.redirectUris()));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        // Racing first calls may each keep their own copy until the table settles; never more.
        assertThat(scopes).hasSizeLessThanOrEqualTo(threads);
        assertThat(uriLists).hasSizeLessThanOrEqualTo(threads);
        assertThat(interner.intern(parsed("late", "shared scope", "learned")).scope())
                .isSameAs(interner.intern(parsed("later", "shared scope", "learned")).scope());
    }

    @Test
    void estimatesBytesOfEveryKindOfValue() {
        assertThat(RegistrationInterner.bytes(null)).isZero();
        assertThat(RegistrationInterner.bytes("abc")).isEqualTo(43);
        assertThat(RegistrationInterner.bytes(List.of("abc"))).isEqualTo(24 + 4 + 43);
        assertThat(RegistrationInterner.bytes(new Registration.UriAroundId("ab", ""))).isEqualTo(16 + 42 + 40);
    }

    /** Compares by identity, to count distinct instances. */
    private record Identity(Object o) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Identity i && i.o == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(o);
        }
    }
}
