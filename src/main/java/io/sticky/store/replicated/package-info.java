/**
 * The replicated store: each shard's states in memory on the node that hosts it, with synchronous copies on
 * standby nodes, written over the event bus.
 * May depend on: {@code api}, {@code store}, {@code internal.protocol}, {@code internal.cluster}, {@code metrics}.
 */
package io.sticky.store.replicated;
