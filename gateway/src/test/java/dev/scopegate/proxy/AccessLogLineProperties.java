package dev.scopegate.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.scopegate.proxy.route.RouteKind;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The access line shows a path exactly as {@link AccessLog#printable} does: cut at 256 characters, escaped. */
class AccessLogLineProperties {

    @Property
    void theLineShowsThePrintablePath(@ForAll("paths") String path) {
        List<String> lines = new ArrayList<>();
        Logger access = (Logger) LoggerFactory.getLogger("scopegate.access");
        Level level = access.getLevel();
        access.setLevel(Level.INFO);
        try {
            new AccessLog(false, (log, line) -> lines.add(line))
                    .exchange("127.0.0.1", "GET", path, 302, 0, 512, 1_500_000, 2_500_000, RouteKind.AUTHORIZE);
        } finally {
            access.setLevel(level);
        }
        assertThat(lines).containsExactly("127.0.0.1 \"GET " + AccessLog.printable(path)
                + "\" 302 in=0 out=512 upstream_ms=1.5 total_ms=2.5 route=" + RouteKind.AUTHORIZE.label());
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> base = Arbitraries.strings().withChars("/a?=&%\"\u0001\u00e9~")
                .ofMinLength(0).ofMaxLength(300);
        Arbitrary<String> aroundTheCut = Arbitraries.integers().between(250, 262)
                .flatMap(n -> Arbitraries.strings().withChars("ab\"").ofLength(n));
        return Arbitraries.oneOf(base, aroundTheCut).injectNull(0.05);
    }
}
