package dev.scopegate.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.NumericChars;
import net.jqwik.api.constraints.WithNull;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

class InterpolationPropertiesTest {

    private final ConfigLoader empty = new ConfigLoader(name -> null);

    @Property(tries = 100)
    void anyEnvironmentValueArrivesVerbatimAndChangesNothingElse(@ForAll @StringLength(max = 40) String value)
            throws ConfigException {
        ScopegateConfig c = new ConfigLoader(Map.of("V", value)::get).parse("scope:\n  default: \"${V}\"\n", "p.yaml");

        assertThat(c.scope().defaultScope()).isEqualTo(value);
        assertThat(c.listen()).isEqualTo(ConfigLoader.defaults().listen());
    }

    /**
     * The shell's rules, for any variable state (unset = null, empty, or any text) and any default
     * that is literal text: {@code :-} replaces unset and empty, {@code -} and the older {@code :}
     * replace only unset.
     */
    @Property(tries = 200)
    void defaultsFollowTheShell(@ForAll @WithNull(0.3) @StringLength(max = 20) String value,
                                @ForAll @AlphaChars @NumericChars @Chars({'-', ':', ' ', '.', '/', '*'})
                                @StringLength(max = 20) String dflt) throws ConfigException {
        boolean unset = value == null;
        boolean unsetOrEmpty = unset || value.isEmpty();

        assertThat(expand("${V:-" + dflt + "}", value)).isEqualTo(unsetOrEmpty ? dflt : value);
        assertThat(expand("${V-" + dflt + "}", value)).isEqualTo(unset ? dflt : value);
        if (!dflt.startsWith("-")) { // ${V:-x} is the shell form, not the older form with default "-x"
            assertThat(expand("${V:" + dflt + "}", value)).isEqualTo(expand("${V-" + dflt + "}", value));
        }
    }

    private static String expand(String reference, String value) throws ConfigException {
        Map<String, String> env = new HashMap<>();
        if (value != null) {
            env.put("V", value);
        }
        return new ConfigLoader(env::get).parse("scope:\n  default: \"" + reference + "\"\n", "p.yaml")
                .scope().defaultScope();
    }

    @Property(tries = 30)
    void durationsParseInEveryUnit(@ForAll @IntRange(min = 1, max = 1_000_000) int n) throws ConfigException {
        assertThat(refresh(n + "ms")).isEqualTo(Duration.ofMillis(n));
        assertThat(refresh(n + "s")).isEqualTo(Duration.ofSeconds(n));
        assertThat(refresh(String.valueOf(n))).isEqualTo(Duration.ofSeconds(n));
        assertThat(refresh(n + "m")).isEqualTo(Duration.ofMinutes(n));
        assertThat(refresh(n + "h")).isEqualTo(Duration.ofHours(n));
        assertThat(refresh(n + "d")).isEqualTo(Duration.ofDays(n));
    }

    private Duration refresh(String written) throws ConfigException {
        return empty.parse("metadata:\n  refresh: " + written + "\n", "p.yaml").metadata().refresh();
    }
}
