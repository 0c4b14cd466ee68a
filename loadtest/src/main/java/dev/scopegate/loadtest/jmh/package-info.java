/** JMH benchmarks of the hot path: the parameter codec, the scope decision, the router; run by loadtest/run.sh. */
package dev.scopegate.loadtest.jmh;
