package dev.scopegate.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@code compat.resource-parameter}'s codec against a reference written the simplest way (split on
 * {@code &}, filter, join): generated queries mix names that decode to {@code resource}
 * ({@code resource}, {@code %72esource}, {@code resourc%65}) with near misses ({@code resources},
 * {@code Resource}, {@code resource+}, {@code resource_uri}, a malformed {@code res%ource}),
 * valueless and empty parameters, empty segments, and values holding {@code =}, {@code %},
 * {@code +} and raw bytes 0x80–0xFF. The remaining segments must come out byte for byte.
 */
class ResourceParametersProperties {

    /** A name spelling and whether the IdP reads it as {@code resource} / {@code audience}. */
    record Name(String raw, boolean resource, boolean audience) {
    }

    static final List<Name> NAMES = List.of(
            new Name("resource", true, false), new Name("%72esource", true, false), new Name("resourc%65", true, false),
            new Name("resources", false, false), new Name("Resource", false, false), new Name("resource+", false, false),
            new Name("resource_uri", false, false), new Name("xresource", false, false), new Name("res%ource", false, false),
            new Name("audience", false, true), new Name("aud%69ence", false, true), new Name("audiences", false, false),
            new Name("scope", false, false), new Name("client_id", false, false), new Name("", false, false));

    /** One segment between {@code &}s: a name, and a value (null: no {@code =}); name null: an empty segment. */
    record Seg(Name name, String value) {
        String raw() {
            return name == null ? "" : name.raw() + (value == null ? "" : "=" + value);
        }

        boolean resource() {
            return name != null && name.resource() && !raw().isEmpty();
        }

        boolean audience() {
            return name != null && name.audience();
        }
    }

    static String join(List<String> parts) {
        return String.join("&", parts);
    }

    static String raw(List<Seg> segs) {
        return join(segs.stream().map(Seg::raw).toList());
    }

    @Property
    void stripRemovesExactlyTheResourcePairs(@ForAll("queries") List<Seg> segs, @ForAll("prefixes") String prefix) {
        String raw = prefix + raw(segs);
        String out = ResourceParameters.strip(raw, prefix.length(), raw.length());

        if (segs.stream().noneMatch(Seg::resource)) {
            assertThat(out).isNull();
            return;
        }
        List<String> kept = segs.stream().filter(s -> !s.resource()).map(Seg::raw).toList();
        assertThat(out).isEqualTo(prefix + join(kept));
    }

    @Property
    void audienceRenamesTheFirstResourceUnlessAnAudienceIsThere(@ForAll("queries") List<Seg> segs) {
        String raw = raw(segs);
        String out = ResourceParameters.toAudience(raw, 0, raw.length());

        if (segs.stream().noneMatch(Seg::resource)) {
            assertThat(out).isNull();
            return;
        }
        boolean audiencePresent = segs.stream().anyMatch(Seg::audience);
        List<String> expected = new ArrayList<>();
        boolean renamed = audiencePresent;
        for (Seg s : segs) {
            if (!s.resource()) {
                expected.add(s.raw());
            } else if (!renamed) {
                expected.add("audience" + (s.value() == null ? "" : "=" + s.value()));
                renamed = true;
            }
        }
        assertThat(out).isEqualTo(join(expected));
    }

    @Example
    void examples() {
        String q = "response_type=code&resource=https%3A%2F%2Fmcp.example%2Fmcp&resources=x&scope=a+b&resource=https://two";
        assertThat(ResourceParameters.strip(q, 0, q.length())).isEqualTo("response_type=code&resources=x&scope=a+b");
        assertThat(ResourceParameters.toAudience(q, 0, q.length()))
                .isEqualTo("response_type=code&audience=https%3A%2F%2Fmcp.example%2Fmcp&resources=x&scope=a+b");
        String withAudience = "audience=api&resource=https%3A%2F%2Fmcp";
        assertThat(ResourceParameters.toAudience(withAudience, 0, withAudience.length())).isEqualTo("audience=api");
        String uri = "/authorize?resource=r&a=1";
        assertThat(ResourceParameters.strip(uri, 11, uri.length())).isEqualTo("/authorize?a=1");
        assertThat(ResourceParameters.strip("a=1&resources=2", 0, 15)).isNull();
        // the range bounds what is read: text after it is kept as it is
        assertThat(ResourceParameters.strip("resource=1#resource=2", 0, 10)).isEqualTo("#resource=2");
    }

    @Provide
    Arbitrary<List<Seg>> queries() {
        Arbitrary<Name> names = Arbitraries.oneOf(Arbitraries.of(NAMES), Arbitraries.of(NAMES.get(0)));
        Arbitrary<String> values = Arbitraries.oneOf(
                Arbitraries.strings().withChars("abcXYZ019=%+.-_~:/?#;\u0080\u00e9\u00ff").ofMaxLength(12),
                Arbitraries.of("https%3A%2F%2Fmcp.example%2Fmcp", "https://mcp.example/mcp", "", "%zz"));
        Arbitrary<Seg> seg = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Combinators.combine(names, values).as(Seg::new)),
                net.jqwik.api.Tuple.of(2, names.map(n -> new Seg(n, null))),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Seg(null, null))));
        return seg.list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<String> prefixes() {
        return Arbitraries.of("", "/authorize?", "/oauth2/v2.0/authorize?");
    }
}
