package io.sticky.internal.region;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sticky.api.PassivationPolicy;
import java.util.ArrayList;
import java.util.List;

/**
 * The active entities of one region, in recency order (an intrusive list: no allocation per message), with
 * the policy that picks whom to passivate when the region is at its limit. Confined to the region's context.
 * Public for the hit-rate benchmark (bench/PassivationHitRate.java).
 */
public abstract class ActiveEntities {
  /** One tracked entity; the region's cell extends it. */
  public static class Entry {
    final String id;
    Entry prev;
    Entry next;
    long lastAccessNanos;
    boolean tracked;

    public Entry(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }
  }

  protected final int limit;
  private Entry head;
  private Entry tail;
  private int size;

  protected ActiveEntities(int limit) {
    this.limit = limit;
  }

  public static ActiveEntities create(PassivationPolicy policy, int limit) {
    return policy == PassivationPolicy.LRU ? new Lru(limit) : new WindowTinyLfu(limit);
  }

  /**
   * Tracks a newly activated entity; returns the entries to passivate now so that at most {@code limit} stay
   * tracked (they are no longer tracked). May return the new entry itself (W-TinyLFU's admission said no).
   */
  public abstract List<Entry> add(Entry e, long nowNanos);

  /** A message reached the entity. */
  public void touch(Entry e, long nowNanos) {
    if (!e.tracked) {
      return;
    }
    e.lastAccessNanos = nowNanos;
    if (e != tail) {
      unlink(e);
      append(e);
    }
  }

  /** The entity stopped (or is stopping) for another reason: no longer tracked. */
  public void remove(Entry e) {
    if (e.tracked) {
      unlink(e);
      e.tracked = false;
      size--;
      onRemoved(e);
    }
  }

  /** Up to {@code max} entries whose last message came before {@code idleSinceNanos}, least recent first. */
  public List<Entry> idle(long idleSinceNanos, int max) {
    List<Entry> result = new ArrayList<>();
    for (Entry e = head; e != null && result.size() < max && e.lastAccessNanos - idleSinceNanos < 0; e = e.next) {
      result.add(e);
    }
    return result;
  }

  public int size() {
    return size;
  }

  public boolean isTracked(Entry e) {
    return e.tracked;
  }

  protected void onRemoved(Entry e) {
  }

  protected final void track(Entry e, long nowNanos) {
    e.lastAccessNanos = nowNanos;
    e.tracked = true;
    append(e);
    size++;
  }

  protected final Entry leastRecent() {
    return head;
  }

  private void append(Entry e) {
    e.prev = tail;
    e.next = null;
    if (tail != null) {
      tail.next = e;
    } else {
      head = e;
    }
    tail = e;
  }

  private void unlink(Entry e) {
    if (e.prev != null) {
      e.prev.next = e.next;
    } else {
      head = e.next;
    }
    if (e.next != null) {
      e.next.prev = e.prev;
    } else {
      tail = e.prev;
    }
    e.prev = null;
    e.next = null;
  }

  /** Least recently used goes first. */
  static final class Lru extends ActiveEntities {
    Lru(int limit) {
      super(limit);
    }

    @Override
    public List<Entry> add(Entry e, long nowNanos) {
      track(e, nowNanos);
      List<Entry> victims = new ArrayList<>(1);
      while (size() > limit) {
        Entry victim = leastRecent();
        remove(victim);
        victims.add(victim);
      }
      return victims;
    }
  }

  /**
   * Caffeine's W-TinyLFU decides: a small LRU window, then admission by estimated frequency (a count-min
   * sketch), so one-off ids do not push out the entities that get traffic all the time. Caffeine runs its
   * maintenance on the caller's thread (direct executor), so victims are known before {@link #add} returns.
   */
  static final class WindowTinyLfu extends ActiveEntities {
    private final Cache<String, Entry> policy;
    private final List<Entry> evicted = new ArrayList<>();

    WindowTinyLfu(int limit) {
      super(limit);
      this.policy = Caffeine.newBuilder()
          .maximumSize(limit)
          .executor(Runnable::run)
          .<String, Entry>evictionListener((id, entry, cause) -> {
            if (cause != null && cause.wasEvicted() && entry != null) {
              evicted.add(entry);
            }
          })
          .build();
    }

    @Override
    public List<Entry> add(Entry e, long nowNanos) {
      track(e, nowNanos);
      policy.put(e.id, e);
      if (policy.estimatedSize() > limit) {
        policy.cleanUp(); // normally the put's own maintenance (direct executor) has already evicted
      }
      if (evicted.isEmpty()) {
        return List.of();
      }
      List<Entry> victims = new ArrayList<>(evicted);
      evicted.clear();
      for (Entry victim : victims) {
        remove(victim);
      }
      return victims;
    }

    @Override
    public void touch(Entry e, long nowNanos) {
      super.touch(e, nowNanos);
      if (e.tracked) {
        policy.getIfPresent(e.id); // records the access for recency and frequency
      }
    }

    @Override
    protected void onRemoved(Entry e) {
      policy.asMap().remove(e.id, e);
    }
  }
}
