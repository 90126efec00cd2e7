/**
 * Sticky's own seams between packages: public so that the runtime's packages can reach each other, but not an
 * API. Applications never use these types; they may change in any release.
 * May depend on: {@code api}, {@code protocol}, {@code cluster}, {@code store}.
 */
package io.sticky.internal;
