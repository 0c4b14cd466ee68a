/** The admin listener: Prometheus metrics, health, readiness, explain, client admin. */
package dev.scopegate.admin;
