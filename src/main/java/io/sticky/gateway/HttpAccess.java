package io.sticky.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Who may call what over HTTP. Off unless a tokens file or JWT keys are given; then every route but
 * {@code /health/*} needs {@code Authorization: Bearer <token>} (a static token from the file, or a JWT signed by
 * one of the keys, unexpired, its roles in a {@code roles} or {@code scope} claim) with a role: {@code read} for entity views and the routing table,
 * {@code write} for messages to entities, {@code admin} for the rest of {@code /cluster*}, {@code /metrics} and
 * {@code /openapi.json}. No role implies another. Without a known token: 401; without the role: 403; both as
 * problem+json, checked before anything else runs, so nothing is applied.
 */
final class HttpAccess {
  enum Role {
    READ, WRITE, ADMIN;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Shorter tokens are refused at start: they can be guessed. */
  static final int MIN_TOKEN_LENGTH = 16;
  private static final HttpAccess OPEN = new HttpAccess(null, null);

  /** SHA-256 of each static token (hex) -> its roles; empty without a tokens file; null when access control is off. */
  private final Map<String, Set<Role>> rolesByTokenHash;
  /** Checks JWTs, or null when none are accepted. */
  private final JWTAuth jwt;

  private HttpAccess(Map<String, Set<Role>> rolesByTokenHash, JWTAuth jwt) {
    this.rolesByTokenHash = rolesByTokenHash;
    this.jwt = jwt;
  }

  static HttpAccess open() {
    return OPEN;
  }

  /** Per the options: static tokens, JWTs, both, or open. Blocking (file I/O); throws naming what is wrong. */
  static HttpAccess create(Vertx vertx, GatewayOptions options) {
    Map<String, Set<Role>> tokens = options.getTokensFile() == null ? null : fromTokensFile(options.getTokensFile()).rolesByTokenHash;
    if (options.getJwtKeyFiles().isEmpty()) {
      return tokens == null ? OPEN : new HttpAccess(tokens, null);
    }
    JWTOptions checks = new JWTOptions().setLeeway(JWT_LEEWAY_SECONDS);
    if (options.getJwtIssuer() != null) {
      checks.setIssuer(options.getJwtIssuer());
    }
    if (options.getJwtAudience() != null) {
      checks.setAudience(List.of(options.getJwtAudience()));
    }
    JWTAuthOptions auth = new JWTAuthOptions().setJWTOptions(checks);
    for (String file : options.getJwtKeyFiles()) {
      try {
        auth.addPubSecKey(new PubSecKeyOptions().setAlgorithm(options.getJwtAlgorithm()).setBuffer(Files.readString(Path.of(file))));
      } catch (IOException e) {
        throw new IllegalArgumentException("JWT key file " + file + " cannot be read: " + e.getMessage());
      }
    }
    JWTAuth jwt;
    try {
      jwt = JWTAuth.create(vertx, auth);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("JWT keys " + options.getJwtKeyFiles() + " (" + options.getJwtAlgorithm() + ") are not usable: "
          + e.getMessage(), e);
    }
    return new HttpAccess(tokens == null ? Map.of() : tokens, jwt);
  }

  /** Clock skew allowed between the token's issuer and this node when checking exp, nbf and iat. */
  static final int JWT_LEEWAY_SECONDS = 30;

  boolean enabled() {
    return rolesByTokenHash != null;
  }

  /**
   * Reads a tokens file: one {@code <token> <role>[,<role>...]} per line; blank lines and lines starting with
   * {@code #} are skipped. Blocking (file I/O). Throws {@link IllegalArgumentException} naming the line at fault.
   */
  static HttpAccess fromTokensFile(String file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("tokens file " + file + " cannot be read: " + e.getMessage());
    }
    Map<String, Set<Role>> roles = new java.util.HashMap<>();
    for (int n = 1; n <= lines.size(); n++) {
      String line = lines.get(n - 1).trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = "tokens file " + file + ", line " + n;
      String[] parts = line.split("\\s+");
      if (parts.length != 2) {
        throw new IllegalArgumentException(where + ": expected '<token> <role>[,<role>...]'");
      }
      if (parts[0].length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException(where + ": a token must be at least " + MIN_TOKEN_LENGTH + " characters");
      }
      Set<Role> set = EnumSet.noneOf(Role.class);
      for (String r : parts[1].split(",")) {
        set.add(role(where, r.trim()));
      }
      if (roles.put(sha256(parts[0]), set) != null) {
        throw new IllegalArgumentException(where + ": the same token is listed twice");
      }
    }
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("tokens file " + file + " lists no token: every request would get 401");
    }
    return new HttpAccess(Map.copyOf(roles), null);
  }

  private static Role role(String where, String name) {
    for (Role r : Role.values()) {
      if (r.label().equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException(where + ": unknown role '" + name + "' (roles: read, write, admin)");
  }

  /** The role a request needs, or null for none (health probes, and routes that answer 404 anyway). */
  static Role required(HttpMethod method, String path) {
    if (path.startsWith("/health/")) {
      return null;
    }
    if (path.startsWith("/entities/")) {
      return method == HttpMethod.GET || method == HttpMethod.HEAD ? Role.READ : Role.WRITE;
    }
    if (path.equals("/cluster/routing") || path.startsWith("/cluster/routing/")) {
      return Role.READ;
    }
    if (path.equals("/cluster") || path.startsWith("/cluster/") || path.equals("/metrics") || path.equals("/openapi.json")) {
      return Role.ADMIN;
    }
    return null;
  }

  /** Router handler: lets the request on, or ends it with 401 or 403. */
  void check(RoutingContext ctx) {
    Role needed = enabled() ? required(ctx.request().method(), ctx.normalizedPath()) : null;
    if (needed == null) {
      ctx.next();
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
    if (token == null || token.isEmpty()) {
      unauthorized(ctx, "this route needs Authorization: Bearer <token>");
      return;
    }
    Set<Role> roles = rolesByTokenHash.get(sha256(token));
    if (roles != null || jwt == null || token.chars().filter(c -> c == '.').count() != 2) {
      decide(ctx, needed, roles, "unknown token");
      return;
    }
    // Checking a JWT is computation only: the provider completes at once, so the request (and its body) has
    // not moved on. Should it not, the request waits paused, for the body handler to resume.
    Future<User> user = jwt.authenticate(new TokenCredentials(token));
    if (!user.isComplete()) {
      ctx.request().pause();
    }
    user.onComplete(ar -> {
      // vertx-auth-jwt keeps the decoded claims in the user's attributes ("accessToken"), not in its principal.
      JsonObject claims = ar.failed() ? null : ar.result().attributes().getJsonObject("accessToken");
      if (ar.failed()) {
        unauthorized(ctx, "invalid token: " + ar.cause().getMessage());
      } else if (claims == null || !claims.containsKey("exp")) {
        unauthorized(ctx, "invalid token: it does not expire (no exp claim)");
      } else {
        decide(ctx, needed, rolesOf(claims), null);
      }
    });
  }

  private static void decide(RoutingContext ctx, Role needed, Set<Role> roles, String unknown) {
    if (roles == null) {
      unauthorized(ctx, unknown);
    } else if (!roles.contains(needed)) {
      Problem.send(ctx.response(), 403, "Forbidden", "this route needs the " + needed.label() + " role", ctx.request().path());
    } else {
      ctx.next();
    }
  }

  private static void unauthorized(RoutingContext ctx, String detail) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"sticky\"");
    Problem.send(ctx.response(), 401, "Unauthorized", detail, ctx.request().path());
  }

  /** A JWT's roles: the {@code roles} claim (array of strings), else the {@code scope} claim (space-separated). */
  static Set<Role> rolesOf(JsonObject claims) {
    List<String> names = new java.util.ArrayList<>();
    Object roles = claims.getValue("roles");
    if (roles instanceof JsonArray array) {
      array.forEach(r -> names.add(String.valueOf(r)));
    } else if (claims.getValue("scope") instanceof String scope) {
      names.addAll(List.of(scope.trim().split("\\s+")));
    }
    Set<Role> set = EnumSet.noneOf(Role.class);
    for (String name : names) {
      for (Role r : Role.values()) {
        if (r.label().equals(name)) {
          set.add(r);
        }
      }
    }
    return set;
  }

  /** Tokens are kept and compared as hashes, so a lookup's timing says nothing about a token's prefix. */
  static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
