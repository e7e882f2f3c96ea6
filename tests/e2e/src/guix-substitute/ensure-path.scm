;; Guix's own client library asking a guix-daemon (GUIX_DAEMON_SOCKET) for
;; store paths with substitutes on, as `guix build` would: what the daemon
;; says it can substitute (through `guix substitute --query`), then
;; ensure-path of each path in turn (through `guix substitute --substitute`).
;; Prints one JSON object on stdout:
;;   {"substitutable": [PATH…],
;;    "infos": [{"path", "deriver", "references", "narSize"}…],
;;    "ensured": [{"path", "ok": true} | {"path", "ok": false, "error": TEXT}…]}
;; Daemon messages (verbosity 4) go to stderr.
;;   guile --no-auto-compile -L SCHEME -C SCHEME ensure-path.scm PATH…
(use-modules (guix store) (json) (srfi srfi-34))

(define (or-null x) (or x 'null))

(with-store s
  (set-build-options s #:use-substitutes? #t #:fallback? #f #:verbosity 4)
  (let* ((paths (cdr (command-line)))
         (substitutable (substitutable-paths s paths))
         (infos (map (lambda (i)
                       `(("path" . ,(substitutable-path i))
                         ("deriver" . ,(or-null (substitutable-deriver i)))
                         ("references" . ,(list->vector (substitutable-references i)))
                         ("narSize" . ,(substitutable-nar-size i))))
                     (substitutable-path-info s paths)))
         (ensured (map (lambda (p)
                         (guard (c ((store-protocol-error? c)
                                    `(("path" . ,p) ("ok" . #f)
                                      ("error" . ,(store-protocol-error-message c)))))
                           (ensure-path s p)
                           `(("path" . ,p) ("ok" . #t))))
                       paths)))
    (display (scm->json-string `(("substitutable" . ,(list->vector substitutable))
                                 ("infos" . ,(list->vector infos))
                                 ("ensured" . ,(list->vector ensured)))))
    (newline)))
