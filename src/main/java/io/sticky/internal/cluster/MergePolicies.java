package io.sticky.internal.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;
import io.sticky.store.StoredState;
import io.vertx.core.json.JsonObject;
import java.util.function.ToLongFunction;

/**
 * How Sticky's Hazelcast maps merge when a split heals: per key, the entry with the higher version (entity
 * states) or epoch (shard allocations) wins, whichever side it comes from. Hazelcast's default
 * ({@code PutIfAbsentMergePolicy}) keeps the larger cluster's entry, which can be the older one. With quorum
 * only the majority writes (the minority fences itself and its maps refuse operations), so the majority's
 * entries are the newer ones; this makes sure a merge never replaces them with what a minority last saw.
 * Configured by class name in {@code HazelcastConfigs}: a public no-argument constructor, nothing to serialise.
 */
public final class MergePolicies {
  private MergePolicies() {
  }

  /** Entity states ({@code sticky.state.*}): the higher {@link StoredState#version()} wins. */
  public static final class HigherStateVersion extends ByNumber {
    public HigherStateVersion() {
      super(value -> StoredState.decode(value).version());
    }
  }

  /** The shard allocation table ({@code sticky.allocations}): the higher {@code epoch} wins. */
  public static final class HigherEpoch extends ByNumber {
    public HigherEpoch() {
      super(value -> new JsonObject(value).getLong("epoch", 0L));
    }
  }

  /** Keeps the entry whose value has the higher number; the existing one on a tie or if either cannot be read. */
  abstract static class ByNumber implements SplitBrainMergePolicy<Object, MergingValue<Object>, Object> {
    private final transient ToLongFunction<String> number;

    ByNumber(ToLongFunction<String> number) {
      this.number = number;
    }

    @Override
    public Object merge(MergingValue<Object> merging, MergingValue<Object> existing) {
      if (existing == null) {
        return merging == null ? null : merging.getRawValue();
      }
      if (merging == null) {
        return existing.getRawValue();
      }
      long incoming = numberOf(merging.getValue());
      long current = numberOf(existing.getValue());
      return incoming > current ? merging.getRawValue() : existing.getRawValue();
    }

    private long numberOf(Object value) {
      if (!(value instanceof String s)) {
        return Long.MIN_VALUE;
      }
      try {
        return number.applyAsLong(s);
      } catch (RuntimeException e) {
        return Long.MIN_VALUE;
      }
    }

    @Override
    public void writeData(ObjectDataOutput out) {
      // stateless
    }

    @Override
    public void readData(ObjectDataInput in) {
      // stateless
    }
  }
}
