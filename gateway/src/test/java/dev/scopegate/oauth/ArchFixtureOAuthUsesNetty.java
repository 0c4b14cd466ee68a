package dev.scopegate.oauth;

/** {@code ArchitectureTest} fixture, never used: decision logic touching a Netty type. */
final class ArchFixtureOAuthUsesNetty {

    private ArchFixtureOAuthUsesNetty() {
    }

    static int readable(io.netty.buffer.ByteBuf buf) {
        return buf.readableBytes();
    }
}
