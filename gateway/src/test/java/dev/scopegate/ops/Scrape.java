package dev.scopegate.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text exposition: samples by name and labels. Immutable. */
public final class Scrape {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+).*$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    private final List<Sample> samples;
    private final Set<String> names;

    private Scrape(List<Sample> samples, Set<String> names) {
        this.samples = samples;
        this.names = names;
    }

    public static Scrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ") || line.startsWith("# HELP ")) {
                names.add(line.split(" ")[2]);
                continue;
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("not a sample line: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            samples.add(new Sample(m.group(1), Map.copyOf(labels), parseValue(m.group(3))));
            names.add(m.group(1));
        }
        return new Scrape(List.copyOf(samples), Set.copyOf(names));
    }

    private static double parseValue(String v) {
        return switch (v) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(v);
        };
    }

    /** Every metric and sample name in the exposition. */
    public Set<String> names() {
        return names;
    }

    /** The sum of the samples named {@code name} whose labels include {@code labelPairs} (k1, v1, k2, v2 …); 0 if none. */
    public double sum(String name, String... labelPairs) {
        double total = 0;
        for (Sample s : samples) {
            if (s.name().equals(name) && matches(s.labels(), labelPairs)) {
                total += s.value();
            }
        }
        return total;
    }

    /** Whether some sample is named {@code name} with these labels. */
    public boolean has(String name, String... labelPairs) {
        return samples.stream().anyMatch(s -> s.name().equals(name) && matches(s.labels(), labelPairs));
    }

    /** The single sample's value; fails when none or several match. */
    public double value(String name, String... labelPairs) {
        List<Sample> found = samples.stream().filter(s -> s.name().equals(name) && matches(s.labels(), labelPairs)).toList();
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " samples " + name + " " + String.join(",", labelPairs));
        }
        return found.get(0).value();
    }

    private static boolean matches(Map<String, String> labels, String[] pairs) {
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (!pairs[i + 1].equals(labels.get(pairs[i]))) {
                return false;
            }
        }
        return true;
    }
}
