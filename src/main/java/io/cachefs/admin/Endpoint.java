package io.cachefs.admin;

/**
 * What one path answers to GET. The body is built whole before anything is sent, so a failure
 * can still become a clean 500 instead of a half-written 200.
 */
interface Endpoint {

    Response get() throws Exception;
}
