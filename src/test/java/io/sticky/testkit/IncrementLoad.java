package io.sticky.testkit;

import io.sticky.testkit.Http.Response;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiConsumer;

/**
 * Client threads incrementing random counters {@code <prefix>-0 .. <prefix>-(ids-1)} through one node's HTTP
 * port until stopped, recording what a checker needs: attempts per id, every acknowledged value per id, and
 * every failed response. A client-side error counts as an attempt, not as an acknowledgement.
 */
public final class IncrementLoad {
  public final int ids;
  public final AtomicLongArray attempts;
  /** Id -> the counter values of its acknowledged increments, in no particular order. */
  public final Map<Integer, List<Long>> ackedValues = new ConcurrentHashMap<>();
  public final List<Response> failures = Collections.synchronizedList(new ArrayList<>());
  public final AtomicLong acks = new AtomicLong();
  private final String prefix;
  private final AtomicBoolean stop = new AtomicBoolean();
  private ExecutorService pool;

  public IncrementLoad(String prefix, int ids) {
    this.prefix = prefix;
    this.ids = ids;
    this.attempts = new AtomicLongArray(ids);
  }

  public String id(int i) {
    return prefix + "-" + i;
  }

  /** Starts {@code workers} threads against {@code httpPort}; {@code onAck} sees each acknowledged (id, response). */
  public IncrementLoad start(int httpPort, int workers, BiConsumer<Integer, Response> onAck) {
    pool = Executors.newFixedThreadPool(workers);
    for (int w = 0; w < workers; w++) {
      pool.submit(() -> {
        while (!stop.get()) {
          int i = ThreadLocalRandom.current().nextInt(ids);
          attempts.incrementAndGet(i);
          Response r;
          try {
            r = Http.increment(httpPort, "counter", id(i));
          } catch (RuntimeException e) {
            continue;
          }
          if (r.status() == 200) {
            ackedValues.computeIfAbsent(i, k -> Collections.synchronizedList(new ArrayList<>())).add(r.json().getLong("value"));
            acks.incrementAndGet();
            onAck.accept(i, r);
          } else {
            failures.add(r);
          }
        }
        return null;
      });
    }
    return this;
  }

  /** Acknowledged increments of id {@code i}. */
  public long acked(int i) {
    return ackedValues.getOrDefault(i, List.of()).size();
  }

  /** Stops the clients and waits for their last requests; true if they all ended in time. */
  public boolean stop() throws InterruptedException {
    stop.set(true);
    pool.shutdown();
    return pool.awaitTermination(60, TimeUnit.SECONDS);
  }
}
