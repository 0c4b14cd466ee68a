/** Load-test tools: the IdP simulator, the registration footprint probe, the JFR and results reports. */
package dev.scopegate.loadtest;
