;;; Guix System services running gbc in place of the Guix Build Coordinator.
;;;
;;; The records, their field names and defaults are those of Guix's own
;;; (gnu services guix): guix-build-coordinator-configuration and
;;; guix-build-coordinator-agent-configuration with its four authentication
;;; records, so a farm's operating-system declaration keeps its fields and
;;; only the package changes. The agent's command line is the one Guix's
;;; guix-build-coordinator-agent-shepherd-services writes for the original
;;; agent, flag for flag (see gbc-agent-arguments below), with `gbc agent'
;;; in front; what only gbc needs comes through GBC_* environment variables.
;;;
;;; packages/cli/src/commands/agent-guix-service.process.test.ts loads
;;; gbc-agent-arguments from this file with plain guile, runs `gbc agent'
;;; with exactly the arguments it returns and builds a derivation: keep that
;;; procedure free of Guix modules. For the same reason the file writes
;;; (gexp …), (ungexp …) and (ungexp-splicing …), the forms #~, #$ and #$@
;;; read as: plain guile, without (guix gexp)'s reader extension, reads it.
;;;
;;; Coordinator fields, as gbc reads them:
;;;
;;;   package                          the package providing bin/gbc (no default)
;;;   user, group                      "guix-build-coordinator"
;;;   database-uri-string              --database (sqlite:///… or postgresql://…)
;;;   agent-communication-uri-string   --agent-communication
;;;   client-communication-uri-string  --client-communication
;;;   allocation-strategy              --allocation-strategy: "basic",
;;;                                    "derivation-ordered", "fair-share" or a
;;;                                    file-like JavaScript module (the
;;;                                    original's Guile procedures do not apply)
;;;   hooks                            alist of event (symbol or string) ->
;;;                                    file-like program, run with the event as
;;;                                    a JSON line on standard input; written
;;;                                    into gbc.config.json's "hooks"
;;;   parallel-hooks                   alist of event -> number ("parallel-hooks")
;;;   listen-repl                      must stay #f: gbc has no REPL
;;;   guile                            unused (gbc runs on Node.js)
;;;   extra-environment-variables      added to the coordinator's environment
;;;   extra-build-coordinator-arguments  further `gbc coordinator' flags, e.g.
;;;                                    '("--signing-key=/etc/gbc/cache.sec")
;;;
;;; The coordinator applies pending database migrations when it starts, as
;;; the original does with #:update-datastore? #t.
;;;
;;; Agent fields: those of the original, written as it writes them. In
;;; addition, guix-signing-key (gbc only, default /etc/guix/signing-key.sec):
;;; the Guix key gbc signs what it imports into guix-daemon with; activation
;;; copies it into the agent's state directory, readable by the agent user
;;; only, and its public half must be authorized (guix-configuration's
;;; authorized-keys, or guix archive --authorize).
;;;
;;; In an operating-system declaration:
;;;
;;;   (use-modules (gbc services guix))
;;;   (service guix-build-coordinator-service-type
;;;            (guix-build-coordinator-configuration
;;;              (package gbc)
;;;              (hooks `((build-success . ,(program-file "publish" #~(…)))))))
;;;   (service guix-build-coordinator-agent-service-type
;;;            (guix-build-coordinator-agent-configuration
;;;              (package gbc)
;;;              (coordinator "http://coordinator.example.org:8745")
;;;              (authentication
;;;               (guix-build-coordinator-agent-password-file-auth
;;;                (uuid "…") (password-file "/etc/gbc/agent.password")))
;;;              (max-parallel-builds 4)
;;;              (derivation-substitute-urls '("https://data.guix.gnu.org"))
;;;              (non-derivation-substitute-urls '("https://bordeaux.guix.gnu.org"))
;;;              (systems '("x86_64-linux" "i686-linux"))))

(define-module (gbc services guix)
  #:use-module (srfi srfi-1)
  #:use-module (ice-9 match)
  #:use-module (guix gexp)
  #:use-module (guix records)
  #:use-module (gnu services)
  #:use-module (gnu services shepherd)
  #:use-module (gnu system shadow)
  #:use-module (gnu packages admin)
  #:export (guix-build-coordinator-configuration
            guix-build-coordinator-configuration?
            guix-build-coordinator-service-type

            guix-build-coordinator-agent-configuration
            guix-build-coordinator-agent-configuration?
            guix-build-coordinator-agent-password-auth
            guix-build-coordinator-agent-password-file-auth
            guix-build-coordinator-agent-dynamic-auth
            guix-build-coordinator-agent-dynamic-auth-with-file
            guix-build-coordinator-agent-service-type

            gbc-agent-arguments))

;;;
;;; The coordinator.
;;;

(define-record-type* <guix-build-coordinator-configuration>
  guix-build-coordinator-configuration make-guix-build-coordinator-configuration
  guix-build-coordinator-configuration?
  (package                         guix-build-coordinator-configuration-package)
  (user                            guix-build-coordinator-configuration-user
                                   (default "guix-build-coordinator"))
  (group                           guix-build-coordinator-configuration-group
                                   (default "guix-build-coordinator"))
  (database-uri-string
   guix-build-coordinator-configuration-database-uri-string
   (default "sqlite:///var/lib/guix-build-coordinator/guix_build_coordinator.db"))
  (agent-communication-uri-string
   guix-build-coordinator-configuration-agent-communication-uri-string
   (default "http://0.0.0.0:8745"))
  (client-communication-uri-string
   guix-build-coordinator-configuration-client-communication-uri-string
   (default "http://127.0.0.1:8746"))
  (allocation-strategy             guix-build-coordinator-configuration-allocation-strategy
                                   (default "basic"))
  (hooks                           guix-build-coordinator-configuration-hooks
                                   (default '()))
  (parallel-hooks                  guix-build-coordinator-configuration-parallel-hooks
                                   (default '()))
  (listen-repl                     guix-build-coordinator-configuration-listen-repl
                                   (default #f))
  (guile                           guix-build-coordinator-configuration-guile
                                   (default #f))
  (extra-environment-variables
   guix-build-coordinator-configuration-extra-environment-variables
   (default '()))
  (extra-build-coordinator-arguments
   guix-build-coordinator-configuration-extra-build-coordinator-arguments
   (default '())))

(define (event-name event)
  (if (symbol? event) (symbol->string event) event))

(define (json-string str)
  ;; Event names and store file names need no escaping beyond the quotes.
  (string-append "\"" str "\""))

(define (guix-build-coordinator-config-file config)
  "The gbc.config.json holding what flags cannot: hooks and parallel-hooks."
  (match-record config <guix-build-coordinator-configuration> (hooks parallel-hooks)
    (computed-file
     "gbc.config.json"
     (gexp (call-with-output-file (ungexp output)
         (lambda (port)
           (display "{\"hooks\": {" port)
           (display
            (string-join
             (list (ungexp-splicing (map (match-lambda
                             ((event . program)
                              (gexp (string-append (ungexp (json-string (event-name event)))
                                               ": [{\"command\": [\"" (ungexp program) "\"]}]"))))
                           hooks)))
             ", ")
            port)
           (display "}, \"parallel-hooks\": {" port)
           (display
            (ungexp (string-join
               (map (match-lambda
                      ((event . count)
                       (string-append (json-string (event-name event)) ": "
                                      (number->string count))))
                    parallel-hooks)
               ", "))
            port)
           (display "}}\n" port)))))))

(define (guix-build-coordinator-command config)
  (match-record config <guix-build-coordinator-configuration>
    (package database-uri-string agent-communication-uri-string
     client-communication-uri-string allocation-strategy
     extra-build-coordinator-arguments)
    (gexp (list (ungexp (file-append package "/bin/gbc")) "coordinator"
            "--config" (ungexp (guix-build-coordinator-config-file config))
            "--database" (ungexp database-uri-string)
            "--agent-communication" (ungexp agent-communication-uri-string)
            "--client-communication" (ungexp client-communication-uri-string)
            "--allocation-strategy" (ungexp allocation-strategy)
            "--data-dir" "/var/lib/guix-build-coordinator/data"
            "--pid-file" "/var/run/guix-build-coordinator/pid"
            (ungexp-splicing extra-build-coordinator-arguments)))))

(define (guix-build-coordinator-shepherd-services config)
  (match-record config <guix-build-coordinator-configuration>
    (user group listen-repl extra-environment-variables)
    (when listen-repl
      (error "gbc has no REPL: leave listen-repl at #f"))
    (list
     (shepherd-service
      (documentation "gbc, in place of the Guix Build Coordinator")
      (provision '(guix-build-coordinator))
      (requirement '(user-processes networking))
      (start (gexp (make-forkexec-constructor
                (ungexp (guix-build-coordinator-command config))
                #:user (ungexp user)
                #:group (ungexp group)
                #:directory "/var/lib/guix-build-coordinator"
                #:pid-file "/var/run/guix-build-coordinator/pid"
                ;; Allow time for migrations to run.
                #:pid-file-timeout 240
                #:environment-variables
                (list "LC_ALL=en_US.utf8"
                      "PATH=/run/current-system/profile/bin" ; for hooks
                      (ungexp-splicing extra-environment-variables))
                #:log-file "/var/log/guix-build-coordinator/coordinator.log")))
      (stop (gexp (make-kill-destructor)))))))

(define (guix-build-coordinator-activation config)
  (match-record config <guix-build-coordinator-configuration> (user)
    (gexp (begin
        (use-modules (guix build utils))
        (let ((pw (getpwnam (ungexp user))))
          (mkdir-p "/var/lib/guix-build-coordinator/data")
          (mkdir-p "/var/log/guix-build-coordinator")
          (mkdir-p "/var/run/guix-build-coordinator")
          (for-each (lambda (dir) (chown dir (passwd:uid pw) (passwd:gid pw)))
                    '("/var/lib/guix-build-coordinator"
                      "/var/lib/guix-build-coordinator/data"
                      "/var/run/guix-build-coordinator"))
          (chmod "/var/lib/guix-build-coordinator" #o755))))))

(define (guix-build-coordinator-account config)
  (match-record config <guix-build-coordinator-configuration> (user group)
    (list (user-group (name group) (system? #t))
          (user-account
           (name user)
           (group group)
           (system? #t)
           (comment "gbc coordinator user")
           (home-directory "/var/lib/guix-build-coordinator")
           (shell (file-append shadow "/sbin/nologin"))))))

(define guix-build-coordinator-service-type
  (service-type
   (name 'guix-build-coordinator)
   (extensions
    (list (service-extension shepherd-root-service-type
                             guix-build-coordinator-shepherd-services)
          (service-extension activation-service-type
                             guix-build-coordinator-activation)
          (service-extension account-service-type
                             guix-build-coordinator-account)))
   (description "Run gbc, a Guix Build Coordinator.")))

;;;
;;; Agents.
;;;

(define-record-type* <guix-build-coordinator-agent-configuration>
  guix-build-coordinator-agent-configuration
  make-guix-build-coordinator-agent-configuration
  guix-build-coordinator-agent-configuration?
  (package             guix-build-coordinator-agent-configuration-package)
  (user                guix-build-coordinator-agent-configuration-user
                       (default "guix-build-coordinator-agent"))
  (coordinator         guix-build-coordinator-agent-configuration-coordinator
                       (default "http://localhost:8745"))
  (authentication      guix-build-coordinator-agent-configuration-authentication)
  (systems             guix-build-coordinator-agent-configuration-systems
                       (default #f))
  (max-parallel-builds guix-build-coordinator-agent-configuration-max-parallel-builds
                       (default #f))
  (max-parallel-uploads
   guix-build-coordinator-agent-configuration-max-parallel-uploads
   (default #f))
  (max-allocated-builds
   guix-build-coordinator-agent-configuration-max-allocated-builds
   (default #f))
  (max-1min-load-average
   guix-build-coordinator-agent-configuration-max-1min-load-average
   (default #f))
  (derivation-substitute-urls
   guix-build-coordinator-agent-configuration-derivation-substitute-urls
   (default #f))
  (non-derivation-substitute-urls
   guix-build-coordinator-agent-configuration-non-derivation-substitute-urls
   (default #f))
  (extra-options       guix-build-coordinator-agent-configuration-extra-options
                       (default '()))
  ;; gbc only: see the header.
  (guix-signing-key    guix-build-coordinator-agent-configuration-guix-signing-key
                       (default "/etc/guix/signing-key.sec")))

(define-record-type* <guix-build-coordinator-agent-password-auth>
  guix-build-coordinator-agent-password-auth
  make-guix-build-coordinator-agent-password-auth
  guix-build-coordinator-agent-password-auth?
  (uuid            guix-build-coordinator-agent-password-auth-uuid)
  (password        guix-build-coordinator-agent-password-auth-password))

(define-record-type* <guix-build-coordinator-agent-password-file-auth>
  guix-build-coordinator-agent-password-file-auth
  make-guix-build-coordinator-agent-password-file-auth
  guix-build-coordinator-agent-password-file-auth?
  (uuid            guix-build-coordinator-agent-password-file-auth-uuid)
  (password-file   guix-build-coordinator-agent-password-file-auth-password-file))

(define-record-type* <guix-build-coordinator-agent-dynamic-auth>
  guix-build-coordinator-agent-dynamic-auth
  make-guix-build-coordinator-agent-dynamic-auth
  guix-build-coordinator-agent-dynamic-auth?
  (agent-name      guix-build-coordinator-agent-dynamic-auth-agent-name)
  (token           guix-build-coordinator-agent-dynamic-auth-token))

(define-record-type* <guix-build-coordinator-agent-dynamic-auth-with-file>
  guix-build-coordinator-agent-dynamic-auth-with-file
  make-guix-build-coordinator-agent-dynamic-auth-with-file
  guix-build-coordinator-agent-dynamic-auth-with-file?
  (agent-name      guix-build-coordinator-agent-dynamic-auth-with-file-agent-name)
  (token-file      guix-build-coordinator-agent-dynamic-auth-with-file-token-file))

(define* (gbc-agent-arguments #:key coordinator authentication
                              max-parallel-builds max-parallel-uploads
                              max-allocated-builds max-1min-load-average
                              derivation-substitute-urls
                              non-derivation-substitute-urls
                              (extra-options '()) systems)
  "The arguments of bin/gbc: \"agent\", then the flags Guix's agent service
writes for the original agent, in its order and spellings. AUTHENTICATION
is (password UUID PASSWORD), (password-file UUID FILE), (dynamic NAME TOKEN)
or (dynamic-file NAME FILE); a field left #f writes no flag."
  (define (flag name value)
    (simple-format #f "--~A=~A" name value))
  (define (optional name value)
    (if value (list (flag name value)) '()))
  (define (url-list name urls)
    (if urls (list (flag name (string-join urls " "))) '()))
  (append
   (list "agent"
         (flag "coordinator" coordinator)
         "--timestamp-log-output=false")
   (match authentication
     (('password uuid password)
      (list (flag "uuid" uuid) (flag "password" password)))
     (('password-file uuid file)
      (list (flag "uuid" uuid) (flag "password-file" file)))
     (('dynamic name token)
      (list (flag "name" name) (flag "dynamic-auth-token" token)))
     (('dynamic-file name file)
      (list (flag "name" name) (flag "dynamic-auth-token-file" file))))
   (optional "max-parallel-builds" max-parallel-builds)
   (optional "max-parallel-uploads" max-parallel-uploads)
   (optional "max-allocated-builds" max-allocated-builds)
   (optional "max-1min-load-average" max-1min-load-average)
   (url-list "derivation-substitute-urls" derivation-substitute-urls)
   (url-list "non-derivation-substitute-urls" non-derivation-substitute-urls)
   extra-options
   (map (lambda (system) (flag "system" system)) (or systems '()))))

(define (authentication->list authentication)
  (match authentication
    (($ <guix-build-coordinator-agent-password-auth> uuid password)
     (list 'password uuid password))
    (($ <guix-build-coordinator-agent-password-file-auth> uuid password-file)
     (list 'password-file uuid password-file))
    (($ <guix-build-coordinator-agent-dynamic-auth> agent-name token)
     (list 'dynamic agent-name token))
    (($ <guix-build-coordinator-agent-dynamic-auth-with-file> agent-name token-file)
     (list 'dynamic-file agent-name token-file))))

(define %agent-state-directory "/var/lib/guix-build-coordinator-agent")

(define (guix-build-coordinator-agent-shepherd-services config)
  (match-record config <guix-build-coordinator-agent-configuration>
    (package user coordinator authentication
     max-parallel-builds max-parallel-uploads
     max-allocated-builds max-1min-load-average
     derivation-substitute-urls non-derivation-substitute-urls
     extra-options systems)
    (list
     (shepherd-service
      (documentation "gbc agent, in place of the Guix Build Coordinator agent")
      (provision '(guix-build-coordinator-agent))
      (requirement '(networking user-processes guix-daemon))
      (start (gexp (make-forkexec-constructor
                (list (ungexp (file-append package "/bin/gbc"))
                      (ungexp-splicing (gbc-agent-arguments
                          #:coordinator coordinator
                          #:authentication (authentication->list authentication)
                          #:max-parallel-builds max-parallel-builds
                          #:max-parallel-uploads max-parallel-uploads
                          #:max-allocated-builds max-allocated-builds
                          #:max-1min-load-average max-1min-load-average
                          #:derivation-substitute-urls derivation-substitute-urls
                          #:non-derivation-substitute-urls non-derivation-substitute-urls
                          #:extra-options extra-options
                          #:systems systems)))
                #:user (ungexp user)
                #:directory (ungexp %agent-state-directory)
                #:environment-variables
                (list (ungexp (string-append "GBC_STATE_DIR=" %agent-state-directory))
                      "GBC_STORE_DIR=/gnu/store"
                      "GBC_DAEMON_SOCKET=unix:///var/guix/daemon-socket/socket"
                      (ungexp (string-append "GBC_GUIX_SIGNING_KEY=" %agent-state-directory
                                       "/signing-key.sec"))
                      "LC_ALL=en_US.utf8")
                ;; --timestamp-log-output=false: shepherd stamps each line.
                #:log-file "/var/log/guix-build-coordinator/agent.log")))
      ;; The first SIGTERM lets held builds finish (a second aborts them):
      ;; give them time before shepherd sends SIGKILL.
      (stop (gexp (make-kill-destructor SIGTERM #:grace-period 900)))))))

(define (guix-build-coordinator-agent-activation config)
  (match-record config <guix-build-coordinator-agent-configuration>
    (user guix-signing-key)
    (gexp (begin
        (use-modules (guix build utils))
        (let ((pw (getpwnam (ungexp user)))
              (key (ungexp (string-append %agent-state-directory "/signing-key.sec"))))
          (mkdir-p "/var/log/guix-build-coordinator")
          (mkdir-p (ungexp %agent-state-directory))
          (chown (ungexp %agent-state-directory) (passwd:uid pw) (passwd:gid pw))
          (chmod (ungexp %agent-state-directory) #o700)
          (when (file-exists? (ungexp guix-signing-key))
            (copy-file (ungexp guix-signing-key) key)
            (chown key (passwd:uid pw) (passwd:gid pw))
            (chmod key #o400)))))))

(define (guix-build-coordinator-agent-account config)
  (list (user-account
         (name (guix-build-coordinator-agent-configuration-user config))
         (group "nogroup")
         (system? #t)
         (comment "gbc agent user")
         (home-directory "/var/empty")
         (shell (file-append shadow "/sbin/nologin")))))

(define guix-build-coordinator-agent-service-type
  (service-type
   (name 'guix-build-coordinator-agent)
   (extensions
    (list (service-extension shepherd-root-service-type
                             guix-build-coordinator-agent-shepherd-services)
          (service-extension activation-service-type
                             guix-build-coordinator-agent-activation)
          (service-extension account-service-type
                             guix-build-coordinator-agent-account)))
   (description "Run a gbc agent against the local guix-daemon.")))
