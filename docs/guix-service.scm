;;; A Guix System service for the gbc coordinator (and its agents), written
;;; the way (gnu services guix) writes the Guix Build Coordinator's. The
;;; fields keep the names of guix-build-coordinator-configuration and map
;;; onto gbc as follows:
;;;
;;;   package                    the package providing bin/gbc
;;;   user, group                the system account (default "gbc")
;;;   database-uri-string        --database            (GBC_DATABASE)
;;;   agent-communication-uri    --agent-communication (GBC_AGENT_COMMUNICATION)
;;;   client-communication-uri   --client-communication (GBC_CLIENT_COMMUNICATION)
;;;   allocation-strategy        --allocation-strategy: a built-in name
;;;                              ("basic", "derivation-ordered", "fair-share")
;;;                              or a file-like JavaScript module exporting one
;;;   hooks                      alist of event name -> command (a file-like
;;;                              program, given the event as a JSON line on
;;;                              standard input), written into gbc.config.json's
;;;                              "hooks" as {"EVENT": [{"command": [FILE]}]}
;;;   parallel-hooks             alist of event name -> number ("parallel-hooks")
;;;   extra-options              further flags, e.g. '("--signing-key" "/etc/gbc/key.sec")
;;;
;;; Use it in an operating-system declaration:
;;;
;;;   (service gbc-coordinator-service-type
;;;            (gbc-coordinator-configuration
;;;              (package gbc)
;;;              (database-uri-string "sqlite:///var/lib/gbc/gbc.db")
;;;              (hooks `(("build-success" . ,(program-file "publish" #~(...)))))))
;;;
;;;   (service gbc-agent-service-type
;;;            (gbc-agent-configuration
;;;              (package gbc)
;;;              (coordinator "http://coordinator.example.org:8745")
;;;              (authentication
;;;                (gbc-agent-password-file-auth
;;;                  (uuid "…") (password-file "/etc/gbc/agent.password")))))

(define-module (gbc services)
  #:use-module (guix gexp)
  #:use-module (guix records)
  #:use-module (gnu services)
  #:use-module (gnu services shepherd)
  #:use-module (gnu system shadow)
  #:use-module (gnu packages admin)
  #:use-module (ice-9 match)
  #:export (gbc-coordinator-configuration
            gbc-coordinator-configuration?
            gbc-coordinator-service-type
            gbc-agent-configuration
            gbc-agent-password-file-auth
            gbc-agent-dynamic-auth-with-file
            gbc-agent-service-type))

;;; The coordinator.

(define-record-type* <gbc-coordinator-configuration>
  gbc-coordinator-configuration make-gbc-coordinator-configuration
  gbc-coordinator-configuration?
  (package                  gbc-coordinator-configuration-package)
  (user                     gbc-coordinator-configuration-user
                            (default "gbc"))
  (group                    gbc-coordinator-configuration-group
                            (default "gbc"))
  (database-uri-string      gbc-coordinator-configuration-database-uri-string
                            (default "sqlite:///var/lib/gbc/gbc.db"))
  (agent-communication-uri  gbc-coordinator-configuration-agent-communication-uri
                            (default "http://0.0.0.0:8745"))
  (client-communication-uri gbc-coordinator-configuration-client-communication-uri
                            (default "http://127.0.0.1:8746"))
  (allocation-strategy      gbc-coordinator-configuration-allocation-strategy
                            (default "basic"))
  (hooks                    gbc-coordinator-configuration-hooks
                            (default '()))
  (parallel-hooks           gbc-coordinator-configuration-parallel-hooks
                            (default '()))
  (store-dir                gbc-coordinator-configuration-store-dir
                            (default "/gnu/store"))
  (extra-options            gbc-coordinator-configuration-extra-options
                            (default '())))

(define (json-string str)
  ;; Store file names and event names need no escaping beyond quotes.
  (string-append "\"" str "\""))

(define (gbc-coordinator-config-file config)
  "The gbc.config.json holding what flags cannot: hooks and parallel-hooks."
  (match-record config <gbc-coordinator-configuration> (hooks parallel-hooks)
    (computed-file
     "gbc.config.json"
     #~(call-with-output-file #$output
         (lambda (port)
           (display "{\"hooks\": {" port)
           (display
            (string-join
             (list #$@(map (match-lambda
                             ((event . program)
                              #~(string-append #$(json-string event)
                                               ": [{\"command\": [\"" #$program "\"]}]")))
                           hooks))
             ", ")
            port)
           (display "}, \"parallel-hooks\": {" port)
           (display
            (string-join
             (list #$@(map (match-lambda
                             ((event . count)
                              (string-append (json-string event) ": "
                                             (number->string count))))
                           parallel-hooks))
             ", ")
            port)
           (display "}}\n" port))))))

(define (gbc-coordinator-accounts config)
  (match-record config <gbc-coordinator-configuration> (user group)
    (list (user-group (name group) (system? #t))
          (user-account
           (name user)
           (group group)
           (system? #t)
           (comment "gbc coordinator")
           (home-directory "/var/lib/gbc")
           (shell (file-append shadow "/sbin/nologin"))))))

(define (gbc-coordinator-activation config)
  (match-record config <gbc-coordinator-configuration> (user)
    #~(begin
        (use-modules (guix build utils))
        (let ((pw (getpwnam #$user)))
          (mkdir-p "/var/lib/gbc/data")
          (chown "/var/lib/gbc" (passwd:uid pw) (passwd:gid pw))
          (chown "/var/lib/gbc/data" (passwd:uid pw) (passwd:gid pw))
          (chmod "/var/lib/gbc" #o750)))))

(define (gbc-coordinator-command config)
  (match-record config <gbc-coordinator-configuration>
    (package database-uri-string agent-communication-uri client-communication-uri
     allocation-strategy store-dir extra-options)
    #~(list #$(file-append package "/bin/gbc") "coordinator"
            "--config" #$(gbc-coordinator-config-file config)
            "--database" #$database-uri-string
            "--agent-communication" #$agent-communication-uri
            "--client-communication" #$client-communication-uri
            "--allocation-strategy" #$allocation-strategy
            "--data-dir" "/var/lib/gbc/data"
            "--store-dir" #$store-dir
            "--pid-file" "/var/lib/gbc/gbc.pid"
            #$@extra-options)))

(define (gbc-coordinator-shepherd-services config)
  (match-record config <gbc-coordinator-configuration> (user group)
    (list
     (shepherd-service
      (documentation "gbc build coordinator")
      (provision '(gbc-coordinator))
      (requirement '(networking))
      (start #~(lambda _
                 ;; Migrate first: a failed migration must stop the start.
                 (and (zero? (apply system*
                                    (append (list "runuser" "-u" #$user "--")
                                            (list (car #$(gbc-coordinator-command config))
                                                  "coordinator" "--update-database"
                                                  "--database"
                                                  #$(gbc-coordinator-configuration-database-uri-string config)))))
                      ((make-forkexec-constructor
                        #$(gbc-coordinator-command config)
                        #:user #$user
                        #:group #$group
                        #:directory "/var/lib/gbc"
                        #:pid-file "/var/lib/gbc/gbc.pid"
                        #:log-file "/var/log/gbc/coordinator.log")))))
      (stop #~(make-kill-destructor SIGTERM))))))

(define gbc-coordinator-service-type
  (service-type
   (name 'gbc-coordinator)
   (extensions
    (list (service-extension shepherd-root-service-type gbc-coordinator-shepherd-services)
          (service-extension activation-service-type gbc-coordinator-activation)
          (service-extension account-service-type gbc-coordinator-accounts)))
   (description "Run the gbc build coordinator.")))

;;; Agents.

(define-record-type* <gbc-agent-password-file-auth>
  gbc-agent-password-file-auth make-gbc-agent-password-file-auth
  gbc-agent-password-file-auth?
  (uuid          gbc-agent-password-file-auth-uuid)
  (password-file gbc-agent-password-file-auth-password-file))

(define-record-type* <gbc-agent-dynamic-auth-with-file>
  gbc-agent-dynamic-auth-with-file make-gbc-agent-dynamic-auth-with-file
  gbc-agent-dynamic-auth-with-file?
  (agent-name gbc-agent-dynamic-auth-with-file-agent-name)
  (token-file gbc-agent-dynamic-auth-with-file-token-file))

(define-record-type* <gbc-agent-configuration>
  gbc-agent-configuration make-gbc-agent-configuration
  gbc-agent-configuration?
  (package               gbc-agent-configuration-package)
  (user                  gbc-agent-configuration-user (default "gbc-agent"))
  (coordinator           gbc-agent-configuration-coordinator
                         (default "http://localhost:8745"))
  (authentication        gbc-agent-configuration-authentication)
  (systems               gbc-agent-configuration-systems (default '()))
  (max-parallel-builds   gbc-agent-configuration-max-parallel-builds (default 1))
  (max-parallel-uploads  gbc-agent-configuration-max-parallel-uploads (default 1))
  (max-1min-load-average gbc-agent-configuration-max-1min-load-average (default #f))
  (derivation-substitute-urls gbc-agent-configuration-derivation-substitute-urls (default '()))
  (non-derivation-substitute-urls gbc-agent-configuration-non-derivation-substitute-urls (default '())))

(define (gbc-agent-command config)
  (match-record config <gbc-agent-configuration>
    (package coordinator authentication systems max-parallel-builds max-parallel-uploads
     max-1min-load-average derivation-substitute-urls non-derivation-substitute-urls)
    #~(append
       (list #$(file-append package "/bin/gbc") "agent"
             "--coordinator-url" #$coordinator
             "--state-dir" "/var/lib/gbc-agent"
             "--store-dir" "/gnu/store"
             "--daemon-socket" "unix:///var/guix/daemon-socket/socket"
             "--max-parallel-builds" #$(number->string max-parallel-builds)
             "--max-parallel-uploads" #$(number->string max-parallel-uploads))
       '#$(match authentication
            (($ <gbc-agent-password-file-auth> uuid password-file)
             (list "--uuid" uuid "--password-file" password-file))
            (($ <gbc-agent-dynamic-auth-with-file> agent-name token-file)
             (list "--name" agent-name "--dynamic-auth-token-file" token-file)))
       '#$(append-map (lambda (s) (list "--system" s)) systems)
       '#$(if max-1min-load-average
              (list "--max-1min-load-average" (number->string max-1min-load-average))
              '())
       '#$(append-map (lambda (u) (list "--derivation-substitute-url" u)) derivation-substitute-urls)
       '#$(append-map (lambda (u) (list "--non-derivation-substitute-url" u)) non-derivation-substitute-urls))))

(define (gbc-agent-accounts config)
  (let ((user (gbc-agent-configuration-user config)))
    (list (user-group (name user) (system? #t))
          (user-account
           (name user)
           (group user)
           (system? #t)
           (comment "gbc agent")
           (home-directory "/var/lib/gbc-agent")
           (shell (file-append shadow "/sbin/nologin"))))))

(define (gbc-agent-shepherd-services config)
  (let ((user (gbc-agent-configuration-user config)))
    (list
     (shepherd-service
      (documentation "gbc build agent")
      (provision '(gbc-agent))
      (requirement '(networking guix-daemon))
      (start #~(make-forkexec-constructor
                #$(gbc-agent-command config)
                #:user #$user
                #:group #$user
                #:directory "/var/lib/gbc-agent"
                #:log-file "/var/log/gbc/agent.log"))
      ;; The first SIGTERM lets held builds finish; shepherd waits for it.
      (stop #~(make-kill-destructor SIGTERM #:grace-period 900))))))

(define gbc-agent-service-type
  (service-type
   (name 'gbc-agent)
   (extensions
    (list (service-extension shepherd-root-service-type gbc-agent-shepherd-services)
          (service-extension account-service-type gbc-agent-accounts)
          (service-extension activation-service-type
                             (lambda (config)
                               #~(begin
                                   (use-modules (guix build utils))
                                   (let ((pw (getpwnam #$(gbc-agent-configuration-user config))))
                                     (mkdir-p "/var/lib/gbc-agent")
                                     (chown "/var/lib/gbc-agent" (passwd:uid pw) (passwd:gid pw))
                                     (chmod "/var/lib/gbc-agent" #o700)))))))
   (description "Run a gbc build agent against the local guix-daemon.")))
