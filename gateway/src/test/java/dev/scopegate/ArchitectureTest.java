package dev.scopegate;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dependencies point one way (STYLE.md): {@code proxy → oauth → store}. Decision logic in
 * {@code oauth}, {@code store} and {@code config} is plain Java — no Netty — and never reaches
 * back into the proxy or the admin listener. {@code logging} is a leaf: plain Java and Logback,
 * used by the composition root and Logback's config only.
 */
class ArchitectureTest {

    static final Path MAIN = Path.of("src/main/java/dev/scopegate");

    static List<String> offenders(String pkg, String... forbidden) throws IOException {
        try (Stream<Path> files = Files.walk(MAIN.resolve(pkg))) {
            return files.filter(f -> f.toString().endsWith(".java")).filter(f -> {
                try {
                    String text = Files.readString(f);
                    for (String prefix : forbidden) {
                        if (text.contains("import " + prefix) || text.contains("import static " + prefix)) {
                            return true;
                        }
                    }
                    return false;
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }).map(Path::toString).toList();
        }
    }

    @Test
    void decisionLogicHasNoNettyTypes() throws IOException {
        assertThat(offenders("oauth", "io.netty.")).isEmpty();
        assertThat(offenders("config", "io.netty.")).isEmpty();
    }

    @Test
    void dependenciesPointOneWay() throws IOException {
        assertThat(offenders("oauth", "dev.scopegate.proxy", "dev.scopegate.admin")).isEmpty();
        assertThat(offenders("store", "dev.scopegate.proxy", "dev.scopegate.admin", "dev.scopegate.oauth.scope")).isEmpty();
        assertThat(offenders("config", "dev.scopegate.proxy", "dev.scopegate.oauth", "dev.scopegate.store")).isEmpty();
    }

    @Test
    void loggingIsPlainJavaAndLogback() throws IOException {
        assertThat(offenders("logging", "io.netty.", "io.micrometer.", "dev.scopegate.")).isEmpty();
    }
}
