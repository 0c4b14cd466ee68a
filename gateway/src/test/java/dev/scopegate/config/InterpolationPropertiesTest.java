package dev.scopegate.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
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
