// Pull-request checks of a team's model: what the team's multibranch job runs on every pull
// request and on its main branch. The team's Jenkinsfile is two lines:
//
//     @Library('harness@v0.2') _
//     harnessPullRequest(config: 'harness.yaml')
//
// Every stage is one command: install the pinned harness, run the team's build
// (model.build), run the profile's checks, then publish the candidate by digest when the
// config has a registry (the promote job deploys exactly those bytes). A failing stage
// fails the build and the later stages do not run. docs/jenkins.md says more.
def call(Map args = [:]) {
    Map settings = harnessSettings(args, 'harnessPullRequest')
    pipeline {
        agent { label settings.agent }
        options {
            // A new push to a pull request supersedes the build still running for it.
            disableConcurrentBuilds(abortPrevious: true)
            timeout(time: 1, unit: 'HOURS')
            buildDiscarder(logRotator(numToKeepStr: '30'))
        }
        environment {
            HARNESS_CONFIG = "${settings.config}"
            HARNESS_PACKAGE = "${settings.harness}"
            HARNESS_REQUIREMENTS = "${settings.requirements}"
            HARNESS_VENV = "${settings.venv}"
            HARNESS = "${settings.venv}/bin/harness"
            HARNESS_PROFILE = "${settings.profile}"
        }
        stages {
            stage('Install harness') {
                steps {
                    sh libraryResource('harness/install.sh')
                }
            }
            stage('Build model') {
                steps {
                    sh '"$HARNESS" build'
                }
            }
            stage('Checks') {
                steps {
                    sh '"$HARNESS" check --profile "$HARNESS_PROFILE" --reports reports'
                }
            }
            stage('Publish candidate') {
                steps {
                    sh '"$HARNESS" publish --if-configured --write reports/candidate.ref'
                }
            }
        }
        post {
            always {
                junit testResults: 'reports/**/junit/*.xml', keepProperties: true,
                      allowEmptyResults: true
                archiveArtifacts artifacts: 'reports/**', allowEmptyArchive: true
                publishHTML target: [reportName: 'Harness report',
                                     reportDir: "reports/${settings.profile}/html",
                                     reportFiles: 'index.html', keepAll: true,
                                     alwaysLinkToLastBuild: true, allowMissing: true]
            }
        }
    }
}
