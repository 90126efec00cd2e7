package io.sticky.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.internal.serialization.Data;
import com.hazelcast.internal.util.ThreadUtil;
import com.hazelcast.map.impl.MapService;
import com.hazelcast.map.impl.operation.MapOperation;
import com.hazelcast.map.impl.proxy.MapProxyImpl;
import com.hazelcast.spi.impl.NodeEngine;
import com.hazelcast.spi.impl.operationservice.impl.InvocationFuture;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import java.io.IOException;
import io.sticky.internal.cluster.HazelcastFutures;
import io.vertx.core.Future;
import java.util.Map;

/**
 * States in Hazelcast maps ({@code sticky.state.<type>}), partitioned over the cluster with one synchronous
 * backup (see {@code HazelcastConfigs}): a write is acknowledged only once its backup holds it too, so
 * {@code kill -9} of any one node loses no acknowledged write. Lost if the whole cluster stops.
 *
 * <p>The version check runs inside the partition's owner as an entry processor, atomically with the write.
 *
 * <p>A write is acknowledged only once its backup acknowledged it too. Hazelcast's own default is to complete
 * a write whose backup missed the backup timeout as if it had succeeded; Sticky invokes its writes with
 * "fail on indeterminate state" instead (per operation: the cluster-wide property would also apply to
 * Vert.x's registrations), re-sends such a write once (the write is idempotent, so a write the primary
 * already applied is confirmed and backed up again), and fails it as outcome unknown if that misses too.
 *
 * <p>If a partition loses its owner and its backup together (two nodes within the backup's sync), Hazelcast
 * reports it lost and the entries in it are gone: loads of keys in that partition then fail with
 * {@link StateLostException} until {@link #acceptStateLoss} instead of reading as "never written". The report
 * arrives asynchronously, moments after the members' removal; a load in that moment still reads nothing.
 */
public final class HazelcastStateStore implements StateStore {
  /** Map name prefix; the node's Hazelcast config gives these maps their backups. */
  public static final String MAP_PREFIX = "sticky.state.";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HazelcastStateStore.class);

  private final HazelcastInstance hazelcast;
  /** Map proxies by type: looked up once, not per read and write. */
  private final java.util.concurrent.ConcurrentMap<String, IMap<String, String>> maps = new java.util.concurrent.ConcurrentHashMap<>();
  /** Type -> its map's partitions reported lost and not accepted yet. */
  private final java.util.concurrent.ConcurrentMap<String, java.util.Set<Integer>> lostPartitions = new java.util.concurrent.ConcurrentHashMap<>();

  /** Writes sent again because their backup missed the timeout. */
  private final java.util.concurrent.atomic.AtomicLong resends = new java.util.concurrent.atomic.AtomicLong();

  public HazelcastStateStore(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
  }

  @Override
  public String name() {
    return "hazelcast";
  }

  private IMap<String, String> map(String type) {
    return maps.computeIfAbsent(type, t -> {
      IMap<String, String> map = hazelcast.getMap(MAP_PREFIX + t);
      java.util.Set<Integer> lost = lostPartitions.computeIfAbsent(t, k -> java.util.concurrent.ConcurrentHashMap.newKeySet());
      map.addPartitionLostListener(event -> {
        if (lost.add(event.getPartitionId())) {
          log.error("Hazelcast partition {} of {} lost its owner and its backup together: the states in it are lost. Its entities"
              + " answer 503 state-lost until POST /cluster/types/{}/accept-state-loss", event.getPartitionId(), map.getName(), t);
        }
      });
      return map;
    });
  }

  @Override
  public void hosting(String type, int shard, long epoch) {
    map(type); // listens for lost partitions from now on
  }

  @Override
  public Future<StoredState> load(String type, String id) {
    IMap<String, String> map = map(type);
    java.util.Set<Integer> lost = lostPartitions.get(type);
    boolean inLostPartition = !lost.isEmpty() && lost.contains(hazelcast.getPartitionService().getPartition(id).getPartitionId());
    return HazelcastFutures.of(map.getAsync(id)).compose(s -> {
      if (s == null && inLostPartition) {
        return Future.failedFuture(new StateLostException("the Hazelcast partition holding " + type + "/" + id
            + " lost its owner and its backup together"));
      }
      return Future.succeededFuture(s == null ? null : StoredState.decode(s));
    });
  }

  @Override
  public Future<Integer> acceptStateLoss(String type) {
    java.util.Set<Integer> lost = lostPartitions.get(type);
    if (lost == null) {
      return Future.succeededFuture(0);
    }
    int n = lost.size();
    lost.clear();
    if (n > 0) {
      log.warn("{} lost partition(s) of {}: their states are accepted as gone; their entities start fresh", n, type);
    }
    return Future.succeededFuture(n);
  }

  @Override
  public Future<Void> write(String type, String id, StoredState next) {
    ConditionalWrite write = new ConditionalWrite(next.encode(), next.version());
    return submit(type, id, write)
        .recover(err -> err instanceof IndeterminateOperationStateException ? resend(type, id, write) : Future.failedFuture(err))
        .compose(written -> Boolean.TRUE.equals(written)
            ? Future.succeededFuture()
            : Future.failedFuture(new StateConflictException(type, id, next.version() - 1)));
  }

  private Future<Boolean> resend(String type, String id, ConditionalWrite write) {
    resends.incrementAndGet();
    log.warn("{}/{}: a state write's backup was not acknowledged in time; sending it again", type, id);
    return submit(type, id, write).recover(err -> Future.failedFuture(err instanceof IndeterminateOperationStateException
        ? new IllegalStateException("the write's backup was not acknowledged twice; it may be on one member only", err)
        : err));
  }

  long resends() {
    return resends.get();
  }

  /**
   * {@code submitToKey} through Hazelcast's internal invocation builder, the one place that offers "fail on
   * indeterminate operation state" per operation; a plain {@code submitToKey} if the map is not a member's
   * own proxy (it always is when Sticky built the member).
   */
  private Future<Boolean> submit(String type, String id, ConditionalWrite write) {
    IMap<String, String> map = map(type);
    if (!(map instanceof MapProxyImpl<?, ?> proxy)) {
      return HazelcastFutures.of(map.submitToKey(id, write));
    }
    NodeEngine engine = proxy.getNodeEngine();
    Data key = engine.getSerializationService().toData(id, proxy.getPartitionStrategy());
    int partition = engine.getPartitionService().getPartitionId(key);
    MapOperation operation = proxy.getOperationProvider().createEntryOperation(map.getName(), key, write);
    operation.setThreadId(ThreadUtil.getThreadId());
    InvocationFuture<Boolean> invocation = engine.getOperationService()
        .createInvocationBuilder(MapService.SERVICE_NAME, operation, partition)
        .setFailOnIndeterminateOperationState(true)
        .setResultDeserialized(true)
        .invoke();
    return HazelcastFutures.of(invocation);
  }

  /**
   * An estimate from this member's share: it holds (as owner or backup) copies = entries x (1 + backups) /
   * members, and partitions and ids spread evenly, so it is within a few percent for thousands of entities
   * (exact on two members with one backup). IMap.size() would be exact but asks every partition, and while
   * partitions migrate (a node joining) such calls held Hazelcast's operation threads long enough for
   * heartbeats to be missed and a member to be evicted.
   */
  @Override
  public Future<Long> count(String type) {
    IMap<String, String> map = map(type);
    com.hazelcast.map.LocalMapStats local = map.getLocalMapStats();
    int members = hazelcast.getCluster().getMembers().size();
    int copies = Math.min(members, 1 + hazelcast.getConfig().getMapConfig(map.getName()).getBackupCount());
    long held = local.getOwnedEntryCount() + local.getBackupEntryCount();
    return Future.succeededFuture(Math.round((double) held * members / copies));
  }

  @Override
  public Future<Void> ping() {
    return hazelcast.getLifecycleService().isRunning()
        ? Future.succeededFuture()
        : Future.failedFuture(new IllegalStateException("Hazelcast is not running"));
  }

  /**
   * Runs on the key's partition owner (and, with the same outcome, on its backup). Idempotent: the same write
   * applied again (a re-send after an unacknowledged backup) succeeds and changes nothing. Hazelcast serialises it
   * for every remote write and every backup, so it is {@link IdentifiedDataSerializable} rather than Java
   * serialisation (class descriptors and reflection on every write).
   */
  public static final class ConditionalWrite implements EntryProcessor<String, String, Boolean>, IdentifiedDataSerializable {
    private static final long serialVersionUID = 1L;
    private String next;
    private long nextVersion;

    /** For Hazelcast's deserialisation. */
    public ConditionalWrite() {
    }

    ConditionalWrite(String next, long nextVersion) {
      this.next = next;
      this.nextVersion = nextVersion;
    }

    @Override
    public Boolean process(Map.Entry<String, String> entry) {
      String current = entry.getValue();
      long currentVersion = current == null ? 0 : StoredState.decode(current).version();
      if (nextVersion == currentVersion && next.equals(current)) {
        entry.setValue(next); // a modification, so that the backup receives it again
        return true;
      }
      if (nextVersion != currentVersion + 1) {
        return false;
      }
      entry.setValue(next);
      return true;
    }

    @Override
    public int getFactoryId() {
      return SerializationFactory.FACTORY_ID;
    }

    @Override
    public int getClassId() {
      return SerializationFactory.CONDITIONAL_WRITE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(next);
      out.writeLong(nextVersion);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      next = in.readString();
      nextVersion = in.readLong();
    }
  }

  /** Sticky's Hazelcast-serialisable classes; registered by the node's Hazelcast config. */
  public static final class SerializationFactory implements DataSerializableFactory {
    public static final int FACTORY_ID = 0x5717;
    static final int CONDITIONAL_WRITE = 1;

    @Override
    public IdentifiedDataSerializable create(int typeId) {
      return typeId == CONDITIONAL_WRITE ? new ConditionalWrite() : null;
    }
  }
}
