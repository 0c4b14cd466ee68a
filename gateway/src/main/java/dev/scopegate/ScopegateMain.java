package dev.scopegate;

public final class ScopegateMain {
    public static void main(String[] args) {
    }
}
