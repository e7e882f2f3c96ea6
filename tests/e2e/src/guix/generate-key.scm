;; A Guix signing key pair made by Guix's own code (guile-gcrypt and (guix
;; pki)), as `guix archive --generate-key` makes one: ECDSA on Ed25519 with
;; RFC 6979 nonces. Writes signing-key.pub and signing-key.sec into
;; $GUIX_CONFIGURATION_DIRECTORY, then has (guix pki) create the acl there,
;; which authorizes exactly that key. For the Guix farm test's coordinator.
(use-modules (gcrypt pk-crypto) (guix pki))

(define (write-sexp file sexp)
  (call-with-output-file file
    (lambda (port) (display (canonical-sexp->string sexp) port))))

(let ((pair (generate-key
             (string->canonical-sexp "(genkey (ecdsa (curve Ed25519) (flags rfc6979)))"))))
  (write-sexp %public-key-file (find-sexp-token pair 'public-key))
  (write-sexp %private-key-file (find-sexp-token pair 'private-key))
  ;; Reading the ACL creates it from the public key when it is missing.
  (current-acl))
