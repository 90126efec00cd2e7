/**
 * Where entity state is kept between activations: the {@link io.sticky.store.StateStore} contract and its
 * in-memory, Hazelcast and PostgreSQL implementations (the replicated store is in {@code store.replicated}).
 * May depend on: {@code api}, {@code internal.protocol}, {@code internal.cluster}, {@code metrics}.
 */
package io.sticky.store;
