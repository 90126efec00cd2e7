package io.sticky.internal.coordinator;

import io.sticky.internal.cluster.Membership;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a coordinator that takes over reads from the allocation table: the allocations, and the hand-offs to finish. */
final class TableRecovery {
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);

  private TableRecovery() {
  }

  /** A hand-off of {@code shard} from {@code from} to {@code to} at {@code epoch} that a previous coordinator started. */
  record Unfinished(String type, int shard, String from, String to, long epoch, String entry) {
  }

  record Recovered(CoordinatorState state, List<Unfinished> unfinished) {
  }

  /**
   * Reads the table back. An entry with {@code from} is a hand-off the previous coordinator had started: if
   * the old home is still a member it keeps the shard until the move is finished (see {@code ShardCoordinator#resumeHandOffs}),
   * else the target is the home.
   */
  static Recovered read(Map<String, String> entries, Membership membership) {
    List<Unfinished> unfinished = new ArrayList<>();
    long started = System.nanoTime();
    int live = 0;
    CoordinatorState.Recovery recovery = new CoordinatorState.Recovery();
    for (Map.Entry<String, String> e : entries.entrySet()) {
      int slash = e.getKey().lastIndexOf('/');
      TableEntry value = TableEntry.decode(e.getValue());
      String type = e.getKey().substring(0, slash);
      int shard = Integer.parseInt(e.getKey().substring(slash + 1));
      String node = value.node();
      long epoch = value.epoch();
      String from = value.from();
      if (from != null && membership.isMember(from)) {
        recovery.allocation(type, shard, from, value.fromEpoch()).region(type, from);
        unfinished.add(new Unfinished(type, shard, from, node, epoch, e.getValue()));
        live++;
        continue;
      }
      boolean alive = node != null && membership.isMember(node);
      recovery.allocation(type, shard, alive ? node : null, epoch);
      if (alive) {
        recovery.region(type, node);
        live++;
      }
    }
    CoordinatorState state = recovery.build();
    log.info("coordinator recovered {} allocations ({} on live nodes, {} hand-offs to finish) in {} ms", entries.size(), live,
        unfinished.size(), (System.nanoTime() - started) / 1_000_000);
    return new Recovered(state, unfinished);
  }

}
