package dev.scopegate.store.embedded;

import dev.scopegate.model.Registration;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * Run in a separate JVM by {@link SqliteCrashTest}: puts registrations one after another and
 * acknowledges each on stdout once its future completed, then keeps writing until it is killed.
 */
public final class CrashChild {

    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int total = Integer.parseInt(args[1]);
        SqliteRegistrationStore store = new SqliteRegistrationStore(dir);
        System.out.println("READY");
        System.out.flush();
        for (int i = 0; i < total; i++) {
            String id = "crash-" + i;
            Instant now = Instant.now();
            store.put(new Registration(id, "scope:" + i, List.of("https://chatgpt.com/cb"), List.of("authorization_code"),
                    null, null, null, now, now)).join();
            System.out.println("PUT-OK " + id);
            System.out.flush();
        }
        // Never closed on purpose: the only way out is SIGKILL.
        Thread.sleep(60_000);
    }
}
