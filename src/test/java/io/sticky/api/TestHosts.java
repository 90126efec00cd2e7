package io.sticky.api;

import io.sticky.internal.EntityHost;

/** The runtime around an entity, for tests that drive one without a region. */
final class TestHosts {
  private TestHosts() {
  }

  /** The entity's host, made on first use. */
  static EntityHost host(Entity<?> entity) {
    return entity.runtime != null ? entity.runtime : EntityRuntime.of(entity);
  }
}
