package io.sticky.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.internal.protocol.Failures;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.Test;

class StickyErrorTest {

  @Test
  void eventBusFailuresAreClassified() {
    assertThat(StickyError.of(new ReplyException(ReplyFailure.TIMEOUT, "t"))).isEqualTo(StickyError.TIMEOUT);
    assertThat(StickyError.of(new ReplyException(ReplyFailure.NO_HANDLERS, "n"))).isEqualTo(StickyError.UNAVAILABLE);
    assertThat(StickyError.of(new ReplyException(ReplyFailure.NO_HANDLERS, "No handlers for address " + EntityAddress.of("wallet"))))
        .as("the type is not registered on this node: not worth retrying here").isEqualTo(StickyError.UNKNOWN_TYPE);
    assertThat(StickyError.of(StickyError.UNKNOWN_TYPE.exception("x"))).isEqualTo(StickyError.UNKNOWN_TYPE);
    assertThat(StickyError.of(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 400, "x"))).isEqualTo(StickyError.BAD_REQUEST);
    assertThat(StickyError.of(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 999, "x"))).isEqualTo(StickyError.ENTITY_FAILED);
    assertThat(StickyError.of(new IllegalStateException())).isEqualTo(StickyError.ENTITY_FAILED);
    assertThat(StickyError.of(EntityException.badRequest("no"))).isEqualTo(StickyError.BAD_REQUEST);
  }

  @Test
  void onlyTimeoutsEntityAndStoreFailuresLeaveTheOutcomeUnknown() {
    for (StickyError e : StickyError.values()) {
      assertThat(e.outcomeUnknown()).as(e.name())
          .isEqualTo(e == StickyError.TIMEOUT || e == StickyError.ENTITY_FAILED || e == StickyError.STORE_FAILED);
      assertThat(e.type()).startsWith("urn:sticky:problem:");
    }
  }

  @Test
  void everyKindSurvivesTheEventBusAndComesBackTyped() {
    for (StickyError kind : StickyError.values()) {
      ReplyException onTheBus = kind.exception(Failures.encode("why " + kind.slug(), "node-7"));
      EntityException typed = EntityException.from(onTheBus);
      assertThat(typed.error()).as(kind.name()).isEqualTo(kind);
      assertThat(typed.getMessage()).isEqualTo("why " + kind.slug());
      assertThat(typed.node()).isEqualTo("node-7");
    }
  }

  @Test
  void failureMessagesCarryDetailAndNode() {
    ReplyException e = new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 400, Failures.encode("unknown op", "node-1"));
    assertThat(EntityException.from(e).getMessage()).isEqualTo("unknown op");
    assertThat(EntityException.from(e).node()).isEqualTo("node-1");
    ReplyException plain = new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 400, "plain text");
    assertThat(EntityException.from(plain).getMessage()).isEqualTo("plain text");
    assertThat(EntityException.from(plain).node()).isNull();
    EntityException typed = EntityException.from(e);
    assertThat(typed.error()).isEqualTo(StickyError.BAD_REQUEST);
    assertThat(typed.getMessage()).isEqualTo("unknown op");
    assertThat(typed.node()).isEqualTo("node-1");
    assertThat(EntityException.from(typed)).isSameAs(typed);
  }
}
