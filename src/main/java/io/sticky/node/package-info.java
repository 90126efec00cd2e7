/**
 * The process: the launcher and its options, the Hazelcast configuration, and {@link io.sticky.node.StickyNode}
 * (clustered Vert.x, sharding and the gateway together; also what tests start).
 * May depend on every package.
 */
package io.sticky.node;
