/**
 * Sticky's own seams between packages: public so that the runtime's packages can reach each other, but not an
 * API. Applications never use these types; they may change in any release. {@code NodeRuntime} is what the
 * gateway sees of a node; {@code EntityHost} and its kin are how a region drives the entity runtime, which is
 * package-private in {@code api}.
 * May depend on: {@code api}, {@code protocol}, {@code store}.
 */
package io.sticky.internal;
