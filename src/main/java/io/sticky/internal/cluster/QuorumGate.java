package io.sticky.internal.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.splitbrainprotection.HeartbeatAware;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionFunction;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;
import java.util.Collection;
import java.util.function.BooleanSupplier;

/**
 * Hazelcast's split-brain protection for Sticky's maps, decided by Sticky's own {@link Quorum}: a member
 * without quorum has its map operations refused (SplitBrainProtectionException), reads and writes, even
 * where Sticky's own checks were missed. Hazelcast asks again at every heartbeat interval (this function is
 * {@link HeartbeatAware}), so an operation is refused within about a second of the quorum being lost.
 * Until Sticky starts (no quorum yet), nothing is refused.
 */
public final class QuorumGate implements SplitBrainProtectionFunction, HeartbeatAware {
  /** The protection's name, set on the state, allocation and remember-entities maps. */
  public static final String NAME = "sticky-quorum";

  private volatile BooleanSupplier held = () -> true;

  /** The protection config to add to a node's Hazelcast config, with a fresh gate. */
  public static SplitBrainProtectionConfig config() {
    // The minimum size is not used with a function; Hazelcast only requires it to be at least 2.
    return new SplitBrainProtectionConfig(NAME, true, 2).setProtectOn(SplitBrainProtectionOn.READ_WRITE)
        .setFunctionImplementation(new QuorumGate());
  }

  /** Lets the gate of this Hazelcast member (if its config has one) follow {@code quorum}. */
  public static void bind(HazelcastInstance hazelcast, BooleanSupplier quorum) {
    SplitBrainProtectionConfig cfg = hazelcast.getConfig().getSplitBrainProtectionConfigs().get(NAME);
    if (cfg != null && cfg.getFunctionImplementation() instanceof QuorumGate gate) {
      gate.held = quorum;
    }
  }

  @Override
  public boolean apply(Collection<Member> members) {
    return held.getAsBoolean();
  }

  @Override
  public void onHeartbeat(Member member, long timestamp) {
    // Only here so that Hazelcast re-evaluates apply() periodically, not only on membership changes.
  }
}
