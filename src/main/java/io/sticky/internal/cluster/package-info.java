/**
 * The cluster as this node sees it: Hazelcast members as Vert.x node ids ({@link io.sticky.internal.cluster.Membership}),
 * whether this node reaches a majority ({@link io.sticky.internal.cluster.Quorum}), node directory and merge policies.
 * May depend on: {@code internal.protocol}, {@code store} (the stored-state type the merge policies compare).
 */
package io.sticky.internal.cluster;
