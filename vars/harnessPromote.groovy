// Promotion of one published candidate of a team's model to production. The site's promote
// job calls it with the team's repository; its CANDIDATE parameter is the reference a
// pull-request or main build published (registry/repository@sha256:...):
//
//     @Library('harness@v0.2') _
//     harnessPromote(config: 'harness.yaml', repository: 'https://git.example/team/model.git')
//
// Nothing here trains: staging and production pull exactly those bytes by digest. A failing
// gate fails its stage, so the approval and the promotion never run; `harness promote`
// itself refuses a candidate without good evidence, or an approver who is not a release
// manager in the config. With `promotion: 'canary'`, `harness canary` steps production's
// live traffic to the candidate in the config's release.canary steps instead of switching
// it all at once, and aborts by itself (failing the build) when a step's tests fail. With
// `canaryApproval: 'before-last'` too, the steps before the last run first (on the evidence
// alone), the canary holds there at its share, and the approval resumes it for the last
// step and the switch; a build that ends without that step (the approval refused or timed
// out, a stage failed) gives its hold up. docs/jenkins.md says more.
def call(Map args = [:]) {
    Map settings = harnessSettings(args, 'harnessPromote')
    pipeline {
        // No executor at the top: the approval waits without holding one.
        agent none
        options {
            skipDefaultCheckout()
            // Two promotions at once would race for production: the second one waits.
            disableConcurrentBuilds()
        }
        parameters {
            string(name: 'CANDIDATE', trim: true,
                   description: 'The published candidate, registry/repository@sha256:..., ' +
                                'as its pull-request build printed it (reports/candidate.ref)')
        }
        environment {
            HARNESS_CONFIG = "${settings.config}"
            HARNESS_PACKAGE = "${settings.harness}"
            HARNESS_REQUIREMENTS = "${settings.requirements}"
            HARNESS_VENV = "${settings.venv}"
            HARNESS = "${settings.venv}/bin/harness"
            HARNESS_PROFILE = "${settings.profile}"
            HARNESS_STAGING = "${settings.staging}"
            HARNESS_PRODUCTION = "${settings.production}"
        }
        stages {
            stage('Release checks') {
                agent { label settings.agent }
                options { timeout(time: 3, unit: 'HOURS') }
                stages {
                    stage('Checkout') {
                        steps {
                            harnessCheckout(settings)
                        }
                    }
                    stage('Install harness') {
                        steps {
                            sh libraryResource('harness/install.sh')
                        }
                    }
                    stage('Deploy to staging') {
                        steps {
                            sh '"$HARNESS" deploy --env "$HARNESS_STAGING" --candidate "$CANDIDATE"'
                        }
                    }
                    stage('Gate: release checks on staging') {
                        steps {
                            sh '"$HARNESS" check --profile "$HARNESS_PROFILE" --reports reports'
                        }
                    }
                }
                post {
                    always {
                        junit testResults: 'reports/**/junit/*.xml', keepProperties: true,
                              allowEmptyResults: true
                        archiveArtifacts artifacts: 'reports/**', allowEmptyArchive: true
                        publishHTML target: [reportName: 'Release report',
                                             reportDir: "reports/${settings.profile}/html",
                                             reportFiles: 'index.html', keepAll: true,
                                             alwaysLinkToLastBuild: true, allowMissing: true]
                    }
                    success {
                        // The evidence the approval is about travels to the promotion stage.
                        stash name: 'evidence', includes: 'reports/**'
                    }
                }
            }
            // canaryApproval 'before-last': the steps before the last, then held for the
            // approval (`harness status` says so); the approval below resumes it.
            stage('Canary steps before the approval') {
                when { expression { settings.promotion == 'canary' && settings.canaryApproval == 'before-last' } }
                agent { label settings.agent }
                options { timeout(time: 3, unit: 'HOURS') }
                stages {
                    stage('Prepare the canary') {
                        steps {
                            harnessCheckout(settings)
                            unstash 'evidence'
                            sh libraryResource('harness/install.sh')
                        }
                    }
                    stage('Canary steps, held before the last') {
                        steps {
                            sh '"$HARNESS" canary --env "$HARNESS_PRODUCTION" --candidate "$CANDIDATE" --hold-before-last --by "$BUILD_TAG" --reports reports'
                        }
                    }
                }
                post {
                    always {
                        junit testResults: 'reports/canary/junit/*.xml', keepProperties: true,
                              allowEmptyResults: true
                        archiveArtifacts artifacts: 'reports/canary/**', allowEmptyArchive: true
                    }
                }
            }
            stage('Approval and promotion') {
                agent { label settings.agent }
                // Bounds the wait for approval; the input is answered before the agent is
                // allocated, so nothing holds an executor while it waits.
                options { timeout(time: 24, unit: 'HOURS') }
                input {
                    message "Promote candidate ${params.CANDIDATE} to production?"
                    ok 'Promote'
                    submitter "${settings.approvers}"
                    submitterParameter 'APPROVER'
                }
                stages {
                    stage('Prepare') {
                        steps {
                            harnessCheckout(settings)
                            unstash 'evidence'
                            sh libraryResource('harness/install.sh')
                        }
                    }
                    stage('Promote all at once') {
                        when { expression { settings.promotion == 'all-at-once' } }
                        steps {
                            sh '"$HARNESS" promote --candidate "$CANDIDATE" --approver "$APPROVER" --reports reports'
                        }
                    }
                    // The same evidence, approval and lock, on production's live traffic.
                    stage('Promote by canary steps') {
                        when { expression { settings.promotion == 'canary' && settings.canaryApproval == 'before-first' } }
                        steps {
                            sh '"$HARNESS" canary --env "$HARNESS_PRODUCTION" --candidate "$CANDIDATE" --approver "$APPROVER" --reports reports'
                        }
                    }
                    // The held canary's last step, on this approval, then the switch; refused
                    // unless the canary held is this build's candidate.
                    stage('Last canary step') {
                        when { expression { settings.promotion == 'canary' && settings.canaryApproval == 'before-last' } }
                        steps {
                            sh '"$HARNESS" canary --env "$HARNESS_PRODUCTION" --resume --approver "$APPROVER" --candidate "$CANDIDATE" --reports reports'
                        }
                    }
                    stage('Production status') {
                        steps {
                            sh '"$HARNESS" status --env "$HARNESS_PRODUCTION"'
                        }
                    }
                }
                post {
                    always {
                        junit testResults: 'reports/promotion/junit/*.xml, reports/canary/junit/*.xml',
                              keepProperties: true, allowEmptyResults: true
                        archiveArtifacts artifacts: 'reports/promotion/**, reports/canary/**',
                                         allowEmptyArchive: true
                    }
                }
            }
        }
        post {
            // A held canary keeps its share of production's traffic until it is resumed or
            // given up: a build that ends without its last step (the approval refused or
            // timed out, a stage failed) gives up its candidate's hold. With none held, or
            // another candidate's, nothing changes.
            unsuccessful {
                node(settings.agent) {
                    harnessCheckout(settings)
                    sh libraryResource('harness/install.sh')
                    sh '"$HARNESS" canary --env "$HARNESS_PRODUCTION" --abort --if-held --candidate "$CANDIDATE" --by "$BUILD_TAG"'
                }
            }
        }
    }
}
