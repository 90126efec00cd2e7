package io.sticky.store;

/**
 * A load found no state for an entity whose state existed, because every copy of it was lost (the nodes
 * that held them failed together). The entity must not start from its initial state without a word: it
 * answers {@link io.sticky.api.StickyError#STATE_LOST} until the loss is accepted
 * ({@link StateStore#acceptStateLoss(String)}), unless its type starts fresh on state loss.
 */
public class StateLostException extends RuntimeException {
  public StateLostException(String message) {
    super(message, null, false, false);
  }
}
