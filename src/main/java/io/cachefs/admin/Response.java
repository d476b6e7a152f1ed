package io.cachefs.admin;

/** A successful answer of one endpoint: the body, complete, and its media type. */
record Response(String contentType, byte[] body) {}
