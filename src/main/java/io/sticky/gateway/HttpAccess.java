package io.sticky.gateway;

import io.vertx.core.http.HttpMethod;
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
 * Who may call what over HTTP. Off unless a tokens file is given; then every route but {@code /health/*} needs
 * {@code Authorization: Bearer <token>} with a role: {@code read} for entity views and the routing table,
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
  private static final HttpAccess OPEN = new HttpAccess(null);

  /** SHA-256 of each token (hex) -> its roles; null when access control is off. */
  private final Map<String, Set<Role>> rolesByTokenHash;

  private HttpAccess(Map<String, Set<Role>> rolesByTokenHash) {
    this.rolesByTokenHash = rolesByTokenHash;
  }

  static HttpAccess open() {
    return OPEN;
  }

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
    return new HttpAccess(Map.copyOf(roles));
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
    Set<Role> roles = token == null || token.isEmpty() ? null : rolesByTokenHash.get(sha256(token));
    if (roles == null) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"sticky\"");
      Problem.send(ctx.response(), 401, "Unauthorized", token == null ? "this route needs Authorization: Bearer <token>"
          : "unknown token", ctx.request().path());
      return;
    }
    if (!roles.contains(needed)) {
      Problem.send(ctx.response(), 403, "Forbidden", "this route needs the " + needed.label() + " role", ctx.request().path());
      return;
    }
    ctx.next();
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
