package dev.scopegate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The training run of the CDS archive (the gateway pom's package phase) goes through a real
 * gateway: every request it sends reaches the demo IdP, so the archive holds the proxy path's
 * classes, not those of a refusal.
 */
class CdsTrainingTest {

    @Test
    void everyTrainingRequestGoesThroughTheGateway() throws Exception {
        assertThat(CdsTraining.train()).isZero();
    }
}
