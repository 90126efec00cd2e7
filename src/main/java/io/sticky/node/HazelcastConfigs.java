package io.sticky.node;

import com.hazelcast.config.Config;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.sticky.internal.cluster.MergePolicies;
import io.sticky.internal.cluster.QuorumGate;
import io.sticky.internal.coordinator.ShardCoordinator;
import io.sticky.store.HazelcastStateStore;

/**
 * The Hazelcast configuration of a node: TCP/IP join of an explicit member list, or Kubernetes discovery by
 * DNS (no multicast, no auto-detection), bound to one interface, and the failure-detection settings Sticky
 * relies on.
 */
public final class HazelcastConfigs {
  /** Members are admitted at once instead of after Hazelcast's default 5 s wait. */
  static final String WAIT_SECONDS_BEFORE_JOIN = "0";
  /** Heartbeat every second ... */
  static final String HEARTBEAT_INTERVAL_SECONDS = "1";
  /**
   * ... and evict a member silent for this long. Crashed members are found in under a second through their
   * closed sockets; this bounds how long a hung (or partitioned) member keeps its shards. Lower is faster
   * failover but risks evicting a node during a long GC pause.
   */
  static final String MAX_NO_HEARTBEAT_SECONDS = "10";
  /**
   * How long a write waits for its synchronous backup's acknowledgement. A backup sent while its partition
   * migrates (a member joined or left) can be dropped, and the write then waits the whole timeout: with
   * Hazelcast's 5 s default, state writes during a join hit the 5 s ask timeout (HandOffTest). State writes
   * that miss it are sent again, then fail (HazelcastStateStore); other maps' writes complete anyway.
   */
  static final String BACKUP_TIMEOUT_MILLIS = "1000";
  /**
   * Migrate each partition in one operation rather than in fragments (one per map or service). While a
   * partition migrates, its old owner rejects writes until the master publishes the migration as done, so
   * every extra step is a longer stall: with fragments (Hazelcast's default) state writes stall for most of
   * a second when a node joins. Fragments exist to bound the memory one migration takes; our partitions hold
   * kilobytes to a few megabytes.
   */
  static final String MIGRATION_FRAGMENTS_ENABLED = "false";
  /**
   * After a network partition heals, how soon Hazelcast looks for the other side to merge with, and how
   * often after that (Hazelcast's defaults: 300 s and 120 s). Until then the minority stays a cluster of its
   * own, fenced and answering 503. A lookup is one join attempt against the member list.
   */
  static final String MERGE_FIRST_RUN_DELAY_SECONDS = "10";
  static final String MERGE_NEXT_RUN_DELAY_SECONDS = "10";
  /** How long one DNS lookup of the Kubernetes service may take (Hazelcast's default). */
  static final String KUBERNETES_DNS_TIMEOUT_SECONDS = "5";

  /** Packages whose classes Hazelcast may deserialize with Java serialization (see {@link #create}). */
  static final java.util.List<String> SERIALIZABLE_PREFIXES = java.util.List.of("io.sticky.", "io.vertx.", "com.hazelcast.",
      "java.lang.", "java.util.", "java.time.", "java.math.", "java.io.", "[");

  private HazelcastConfigs() {
  }

  private static MapConfig protectedMap(String name, Class<?> mergePolicy) {
    MapConfig map = new MapConfig(name).setBackupCount(1).setAsyncBackupCount(0).setSplitBrainProtectionName(QuorumGate.NAME);
    map.getMergePolicyConfig().setPolicy(mergePolicy.getName());
    return map;
  }

  public static Config create(NodeOptions options) {
    Config cfg = new Config();
    cfg.setClusterName(options.getClusterName());
    cfg.setProperty("hazelcast.logging.type", "slf4j");
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.socket.bind.any", "false");
    cfg.setProperty("hazelcast.wait.seconds.before.join", WAIT_SECONDS_BEFORE_JOIN);
    cfg.setProperty("hazelcast.heartbeat.interval.seconds", HEARTBEAT_INTERVAL_SECONDS);
    cfg.setProperty("hazelcast.max.no.heartbeat.seconds", MAX_NO_HEARTBEAT_SECONDS);
    cfg.setProperty("hazelcast.operation.backup.timeout.millis", BACKUP_TIMEOUT_MILLIS);
    cfg.setProperty("hazelcast.partition.migration.fragments.enabled", MIGRATION_FRAGMENTS_ENABLED);
    cfg.setProperty("hazelcast.merge.first.run.delay.seconds", MERGE_FIRST_RUN_DELAY_SECONDS);
    cfg.setProperty("hazelcast.merge.next.run.delay.seconds", MERGE_NEXT_RUN_DELAY_SECONDS);

    NetworkConfig net = cfg.getNetworkConfig();
    net.setPort(options.getClusterPort()).setPortAutoIncrement(options.isClusterPortAutoIncrement()).setPortCount(20);
    net.getInterfaces().setEnabled(true).addInterface(options.getHost());
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (options.getKubernetesServiceDns() != null) {
      // Hazelcast's built-in Kubernetes discovery in DNS lookup mode: the members are the A records of a
      // headless Service, so it needs no RBAC for the Kubernetes API. Only one join method may be enabled.
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true)
          .setProperty("service-dns", options.getKubernetesServiceDns())
          .setProperty("service-dns-timeout", KUBERNETES_DNS_TIMEOUT_SECONDS)
          // Pods are reached on the configured port (Hazelcast would assume 5701).
          .setProperty("service-port", Integer.toString(options.getClusterPort()));
    } else {
      // One entry per member: Hazelcast 5.3 cannot parse "host:5701-5705" here.
      join.getTcpIpConfig().setEnabled(true).setMembers(options.getMembers());
    }

    // Hazelcast deserializes what members send it, and open-source Hazelcast does not authenticate members:
    // Java serialization only for Sticky's and Vert.x's own classes and plain JDK values, so a crafted object
    // (a "gadget chain") sent by whoever reaches the cluster port is refused rather than run.
    // Hazelcast's default allow-list admits all of java* (java.net.URL included), so it is replaced.
    JavaSerializationFilterConfig filter = new JavaSerializationFilterConfig().setDefaultsDisabled(true);
    filter.getWhitelist().addPrefixes(SERIALIZABLE_PREFIXES.toArray(String[]::new));
    cfg.getSerializationConfig().setJavaSerializationFilterConfig(filter);
    cfg.getSerializationConfig().addDataSerializableFactory(HazelcastStateStore.SerializationFactory.FACTORY_ID,
        new HazelcastStateStore.SerializationFactory());

    // A custom config replaces vertx-hazelcast's default-cluster.xml: declare what Vert.x needs.
    cfg.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    cfg.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    cfg.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    // Sticky's maps refuse operations on a member without quorum (QuorumGate), and after a split heals the newer
    // entry of each key wins (MergePolicies), not the larger side's.
    cfg.addSplitBrainProtectionConfig(QuorumGate.config());
    // The shard allocation table: one synchronous backup, so it survives the loss of any one node.
    cfg.addMapConfig(protectedMap(ShardCoordinator.TABLE, MergePolicies.HigherEpoch.class));
    // Entity states (the "hazelcast" store): one synchronous backup, so a write is acknowledged only once two
    // members hold it and kill -9 of any one node loses no acknowledged write.
    cfg.addMapConfig(protectedMap(HazelcastStateStore.MAP_PREFIX + "*", MergePolicies.HigherStateVersion.class));
    // Remember-entities: per type and shard, the ids that were active. One synchronous backup; the merge keeps
    // either side's list (Hazelcast's default), as a list only makes entities start early.
    cfg.addMapConfig(new MapConfig("sticky.remembered.*").setBackupCount(1).setAsyncBackupCount(0)
        .setSplitBrainProtectionName(QuorumGate.NAME));
    // Reminder index: per type and shard, when each entity with reminders is next due. One synchronous backup.
    cfg.addMapConfig(new MapConfig("sticky.reminders.*").setBackupCount(1).setAsyncBackupCount(0)
        .setSplitBrainProtectionName(QuorumGate.NAME));
    return cfg;
  }
}
