package dev.scopegate;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dependencies point one way, checked on the compiled classes of {@code src/main} (so a fully
 * qualified name counts as much as an import line, and cycles are found):
 *
 * <pre>
 *   dev.scopegate (the composition root and the CLI), demo
 *        │
 *      admin ──► proxy, fetch, tls            the edges: Netty lives here and only here
 *        │          │
 *        └──────► oauth                       decisions, plain Java
 *                   │
 *                 store                       where registrations live
 *                   │
 *   model, config, metrics, logging           leaves: depend on no scopegate package
 * </pre>
 *
 * A layer may use any layer below it (proxy uses store directly for registration capture), never
 * one above, and package slices ({@code dev.scopegate.(*)}) are free of cycles. {@code model}
 * holds what {@code oauth} and {@code store} both speak ({@code Registration}), so {@code store}
 * never needs {@code oauth}. {@code metrics} holds every meter name and depends on nothing: what
 * it reads it declares ({@code MetadataMetrics.Source}). {@code logging} (the Logback side) is
 * used by the composition root only: the access and audit logs declare the {@code LineWriter}
 * they write through. Netty stays in {@code proxy}, {@code admin}, {@code fetch}, {@code tls} and
 * the composition root; Logback and {@code java.util.logging} in {@code logging} and the
 * composition root (which silences Caffeine's JUL logger).
 *
 * <p>Every rule is also run against a fixture under {@code src/test} that breaks it
 * ({@code ArchFixture*}), so a rule that stops matching anything fails here too.
 */
class ArchitectureTest {

    private static final String ROOT = "dev.scopegate";

    /**
     * Lettuce's {@code ClientResources.shutdown} returns a Netty future that
     * {@code store.redis.RedisConnector} discards: the only Netty type {@code store} may name.
     */
    private static final DescribedPredicate<JavaClass> NETTY = resideInAPackage("io.netty..")
            .and(not(name("io.netty.util.concurrent.Future")))
            .as("Netty types (other than the future Lettuce's shutdown returns)");

    static final ArchRule LAYERS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("Root").definedBy(ROOT)
            .layer("Demo").definedBy(ROOT + ".demo..")
            .layer("Admin").definedBy(ROOT + ".admin..")
            .layer("Proxy").definedBy(ROOT + ".proxy..")
            .layer("Fetch").definedBy(ROOT + ".fetch..")
            .layer("Tls").definedBy(ROOT + ".tls..")
            .layer("OAuth").definedBy(ROOT + ".oauth..")
            .layer("Store").definedBy(ROOT + ".store..")
            .layer("Model").definedBy(ROOT + ".model..")
            .layer("Config").definedBy(ROOT + ".config..")
            .layer("Metrics").definedBy(ROOT + ".metrics..")
            .layer("Logging").definedBy(ROOT + ".logging..")

            .whereLayer("Root").mayNotBeAccessedByAnyLayer()
            .whereLayer("Demo").mayOnlyBeAccessedByLayers("Root")
            .whereLayer("Admin").mayOnlyBeAccessedByLayers("Root")
            .whereLayer("Proxy").mayOnlyBeAccessedByLayers("Root", "Admin")
            .whereLayer("Fetch").mayOnlyBeAccessedByLayers("Root")
            .whereLayer("Tls").mayOnlyBeAccessedByLayers("Root", "Admin", "Proxy", "Fetch")
            .whereLayer("OAuth").mayOnlyBeAccessedByLayers("Root", "Admin", "Proxy", "Fetch")
            .whereLayer("Store").mayOnlyBeAccessedByLayers("Root", "Admin", "Proxy", "OAuth")
            .whereLayer("Logging").mayOnlyBeAccessedByLayers("Root")

            .whereLayer("OAuth").mayOnlyAccessLayers("Store", "Model", "Config", "Metrics")
            .whereLayer("Store").mayOnlyAccessLayers("Model", "Config", "Metrics")
            .whereLayer("Model").mayNotAccessAnyLayer()
            .whereLayer("Config").mayNotAccessAnyLayer()
            .whereLayer("Metrics").mayNotAccessAnyLayer()
            .whereLayer("Logging").mayNotAccessAnyLayer()
            .as("layers: root > admin > proxy, fetch, tls > oauth > store > model, config, metrics, logging");

    static final ArchRule NO_CYCLES = slices().matching(ROOT + ".(*)..").namingSlices("$1")
            .should().beFreeOfCycles();

    static final ArchRule NETTY_AT_THE_EDGES = noClasses()
            .that().resideOutsideOfPackages(ROOT, ROOT + ".proxy..", ROOT + ".admin..", ROOT + ".fetch..",
                    ROOT + ".tls..")
            .should().dependOnClassesThat(NETTY)
            .as("Netty only in proxy, admin, fetch, tls and the composition root");

    static final ArchRule DECISIONS_WITHOUT_NETTY = noClasses()
            .that().resideInAnyPackage(ROOT + ".oauth..", ROOT + ".config..", ROOT + ".store..", ROOT + ".model..")
            .should().dependOnClassesThat(NETTY)
            .as("oauth, config, store and model are free of Netty");

    static final ArchRule LOGBACK_IN_LOGGING = noClasses()
            .that().resideOutsideOfPackages(ROOT, ROOT + ".logging..")
            .should().dependOnClassesThat().resideInAPackage("ch.qos.logback..")
            .as("Logback only in logging and the composition root");

    static final ArchRule NO_JUL = noClasses()
            .that().resideOutsideOfPackages(ROOT, ROOT + ".logging..")
            .should().dependOnClassesThat().resideInAPackage("java.util.logging..")
            .as("SLF4J is the logging API: java.util.logging only where the composition root silences a library");

    static final ArchRule LOGGING_IS_A_LEAF = classes()
            .that().resideInAPackage(ROOT + ".logging..")
            .should().onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "ch.qos.logback..", "org.slf4j..", ROOT + ".logging..")
            .as("logging is plain Java, SLF4J and Logback");

    private static JavaClasses main;

    @BeforeAll
    static void importMain() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ROOT);
        assertThat(main.contain("dev.scopegate.proxy.ProxyServer")).isTrue();
    }

    @Test
    void layers() {
        LAYERS.check(main);
    }

    @Test
    void noCyclesBetweenPackages() {
        NO_CYCLES.check(main);
    }

    @Test
    void nettyStaysAtTheEdges() {
        NETTY_AT_THE_EDGES.check(main);
        DECISIONS_WITHOUT_NETTY.check(main);
    }

    @Test
    void loggingBackendsStayInLoggingAndTheRoot() {
        LOGBACK_IN_LOGGING.check(main);
        NO_JUL.check(main);
        LOGGING_IS_A_LEAF.check(main);
    }

    // ---- each rule fails on a reintroduced violation ----

    @Test
    void aStoreClassNamingOAuthBreaksTheLayersAndMakesACycle() {
        JavaClasses broken = mainWith("dev.scopegate.store.ArchFixtureStoreReachesUp");
        assertFails(LAYERS, broken, "ArchFixtureStoreReachesUp", "dev.scopegate.oauth.ScopeNormalizer");
        assertFails(NO_CYCLES, broken, "ArchFixtureStoreReachesUp", "oauth", "store");
    }

    @Test
    void aModelClassNamingStoreBreaksTheLayers() {
        JavaClasses broken = mainWith("dev.scopegate.model.ArchFixtureModelReachesUp");
        assertFails(LAYERS, broken, "ArchFixtureModelReachesUp", "dev.scopegate.store.RegistrationStore");
        assertFails(NO_CYCLES, broken, "ArchFixtureModelReachesUp");
    }

    @Test
    void nettyInOAuthIsRefused() {
        JavaClasses broken = mainWith("dev.scopegate.oauth.ArchFixtureOAuthUsesNetty");
        assertFails(NETTY_AT_THE_EDGES, broken, "ArchFixtureOAuthUsesNetty", "io.netty.buffer.ByteBuf");
        assertFails(DECISIONS_WITHOUT_NETTY, broken, "ArchFixtureOAuthUsesNetty", "io.netty.buffer.ByteBuf");
    }

    @Test
    void logbackOrTheLoggingPackageInOAuthIsRefused() {
        JavaClasses broken = mainWith("dev.scopegate.oauth.ArchFixtureOAuthUsesLogback");
        assertFails(LOGBACK_IN_LOGGING, broken, "ArchFixtureOAuthUsesLogback", "ch.qos.logback.classic.Logger");
        assertFails(LAYERS, broken, "ArchFixtureOAuthUsesLogback", "dev.scopegate.logging.Lines");
    }

    @Test
    void javaUtilLoggingIsRefused() {
        JavaClasses broken = mainWith("dev.scopegate.store.ArchFixtureStoreUsesJul");
        assertFails(NO_JUL, broken, "ArchFixtureStoreUsesJul", "java.util.logging.Logger");
    }

    /** The main classes plus the named fixtures from {@code src/test}, and no other test class. */
    private static JavaClasses mainWith(String... fixtures) {
        String[] files = Arrays.stream(fixtures).map(c -> "/" + c.replace('.', '/')).toArray(String[]::new);
        ImportOption mainOrFixture = (Location location) ->
                ImportOption.Predefined.DO_NOT_INCLUDE_TESTS.includes(location)
                        || Arrays.stream(files).anyMatch(f -> location.contains(f + ".class") || location.contains(f + "$"));
        JavaClasses classes = new ClassFileImporter().withImportOption(mainOrFixture).importPackages(ROOT);
        for (String fixture : fixtures) {
            assertThat(classes.contain(fixture)).as(fixture).isTrue();
        }
        return classes;
    }

    private static void assertFails(ArchRule rule, JavaClasses classes, String... reportMentions) {
        EvaluationResult result = rule.evaluate(classes);
        assertThat(result.hasViolation()).as(rule.getDescription()).isTrue();
        assertThat(result.getFailureReport().toString()).contains(reportMentions);
    }
}
