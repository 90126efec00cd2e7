/**
 * Everything of Sticky that is not an API: public only so that its packages can reach each other; applications
 * never use these types, and they may change in any release. The sub-packages hold the runtime ({@code protocol},
 * {@code cluster}, {@code coordinator}, {@code region}, {@code runtime}); this package holds the seams between
 * them and the public ones: {@code NodeRuntime}, what the gateway sees of a node, and {@code EntityHost} and its
 * kin, through which a region drives the entity runtime that is package-private in {@code api}.
 * May depend on: {@code api}, {@code internal.protocol}, {@code store}.
 */
package io.sticky.internal;
