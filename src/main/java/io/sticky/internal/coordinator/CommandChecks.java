package io.sticky.internal.coordinator;

import io.sticky.internal.cluster.Membership;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.GetShardHome;
import io.sticky.internal.protocol.Protocol.GracefulShutdownReq;
import io.sticky.internal.protocol.Protocol.Register;
import java.util.HashMap;
import java.util.Map;

/** What the coordinator checks before it acts on a command: who sent it, and that its type's number of shards agrees. */
final class CommandChecks {
  private final Membership membership;
  /** Number of shards per type, as the first region registered it; all others must agree. */
  private final Map<String, Integer> shardCounts = new HashMap<>();

  CommandChecks(Membership membership) {
    this.membership = membership;
  }

  /** The type's number of shards, as its first region registered it, or null. */
  Integer shardCount(String type) {
    return shardCounts.get(type);
  }

  /** Only members send commands, and a node speaks only for itself (it cannot register, or drain, another). */
  String checkSender(String sender, Protocol.CoordinatorCommand command) {
    if (sender == null || !membership.isMember(sender)) {
      return "sender " + sender + " is not a member of the cluster";
    }
    String speaksFor = command instanceof Register r ? r.node()
        : command instanceof GetShardHome g ? g.requester()
        : command instanceof GracefulShutdownReq req ? req.node()
        : sender;
    return speaksFor.equals(sender) ? null : "node " + sender + " cannot act for node " + speaksFor;
  }

  /** Every node must use the same number of shards for a type, or they would disagree on where ids live. */
  String checkShardCount(Protocol.CoordinatorCommand command) {
    String type;
    int count;
    if (command instanceof Register r) {
      type = r.type();
      count = r.numberOfShards();
    } else if (command instanceof GetShardHome g) {
      type = g.type();
      count = g.numberOfShards();
    } else {
      return null;
    }
    Integer known = shardCounts.putIfAbsent(type, count);
    if (known != null && known != count) {
      return "entity type " + type + " is registered with " + known + " shards but a node uses " + count
          + "; every node must use the same number of shards";
    }
    return null;
  }
}
