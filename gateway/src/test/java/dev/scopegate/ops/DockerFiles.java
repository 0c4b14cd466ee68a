package dev.scopegate.ops;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository's {@code docker/} directory is, from the test's working directory. */
public final class DockerFiles {

    private DockerFiles() {
    }

    public static Path dir() {
        for (Path p : new Path[]{Path.of("..", "docker"), Path.of("docker")}) {
            if (Files.isRegularFile(p.resolve("Dockerfile"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new AssertionError("docker/ not found from " + Path.of("").toAbsolutePath());
    }
}
