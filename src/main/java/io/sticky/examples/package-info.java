/**
 * Example entity types the launcher serves by default: {@code counter} and {@code cart}.
 * May depend on: {@code api}.
 */
package io.sticky.examples;
