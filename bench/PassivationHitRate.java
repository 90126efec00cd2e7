// Hit rate of the active-entity limit's policies (LRU vs W-TinyLFU) on Zipf-distributed entity ids.
//
//   mvn -B package -DskipTests
//   java -cp target/sticky.jar bench/PassivationHitRate.java            # keys=100000, limit=10%, 2M messages
//   java -cp target/sticky.jar bench/PassivationHitRate.java 1000000 0.1 5000000
//
// Drives the region's own ActiveEntities implementations (the code that picks whom to passivate) with a
// stream of ids: a message to a tracked (active) id is a hit; any other activates the id, and the policy
// names the entities to passivate to stay within the limit. Hit rate = messages that found their entity
// active: each miss is an activation (a store read) plus a passivation (a store write when it changed).
// Also prints a scan-resistance case: the Zipf stream with a burst of one-off ids mixed in.
import io.sticky.api.PassivationPolicy;
import io.sticky.internal.region.ActiveEntities;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

public class PassivationHitRate {
  public static void main(String[] args) {
    int keys = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    double limitShare = args.length > 1 ? Double.parseDouble(args[1]) : 0.10;
    int messages = args.length > 2 ? Integer.parseInt(args[2]) : 2_000_000;
    int limit = (int) Math.max(1, keys * limitShare);
    System.out.printf("keys %d, limit %d (%.0f%%), %d messages per run; hit rate (higher is better)%n", keys, limit, limitShare * 100, messages);
    System.out.printf("%-22s %8s %10s %8s%n", "workload", "lru", "w-tinylfu", "ratio");
    for (double s : new double[] {0.9, 1.0, 1.1}) {
      report(String.format("zipf s=%.1f", s), keys, limit, messages, s, 0.0);
    }
    report("zipf s=1.0 + 30% scan", keys, limit, messages, 1.0, 0.3);
  }

  static void report(String name, int keys, int limit, int messages, double s, double scanShare) {
    double lru = run(PassivationPolicy.LRU, keys, limit, messages, s, scanShare);
    double tiny = run(PassivationPolicy.W_TINY_LFU, keys, limit, messages, s, scanShare);
    System.out.printf("%-22s %7.1f%% %9.1f%% %7.2fx%n", name, lru * 100, tiny * 100, tiny / lru);
  }

  /** One run with a fixed seed, so both policies see the same stream. */
  static double run(PassivationPolicy policy, int keys, int limit, int messages, double s, double scanShare) {
    Zipf zipf = new Zipf(keys, s, new SplittableRandom(42));
    SplittableRandom scan = new SplittableRandom(7);
    ActiveEntities active = ActiveEntities.create(policy, limit);
    Map<String, ActiveEntities.Entry> tracked = new HashMap<>();
    long hits = 0;
    long scanId = 0;
    for (int i = 0; i < messages; i++) {
      String id = scanShare > 0 && scan.nextDouble() < scanShare ? "scan-" + scanId++ : "k" + zipf.next();
      long now = i;
      ActiveEntities.Entry e = tracked.get(id);
      if (e != null) {
        hits++;
        active.touch(e, now);
        continue;
      }
      e = new ActiveEntities.Entry(id);
      tracked.put(id, e);
      List<ActiveEntities.Entry> victims = active.add(e, now);
      for (ActiveEntities.Entry v : victims) {
        tracked.remove(v.id());
      }
    }
    return (double) hits / messages;
  }

  /** Zipf(s) over 1..n by inverse transform on a precomputed CDF (exact, O(log n) per draw). */
  static final class Zipf {
    private final double[] cdf;
    private final SplittableRandom random;

    Zipf(int n, double s, SplittableRandom random) {
      this.random = random;
      cdf = new double[n];
      double sum = 0;
      for (int k = 1; k <= n; k++) {
        sum += 1.0 / Math.pow(k, s);
        cdf[k - 1] = sum;
      }
      for (int k = 0; k < n; k++) {
        cdf[k] /= sum;
      }
    }

    int next() {
      double u = random.nextDouble();
      int lo = 0;
      int hi = cdf.length - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cdf[mid] < u) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo + 1;
    }
  }
}
