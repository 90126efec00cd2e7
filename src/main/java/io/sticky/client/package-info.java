/**
 * {@link io.sticky.client.StickyClient}: the owner-aware HTTP client, which computes each id's shard and sends the
 * request straight to the node that holds it.
 * May depend on: {@code api}.
 */
package io.sticky.client;
