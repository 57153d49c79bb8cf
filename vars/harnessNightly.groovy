// The nightly model regression of a team's model: the nightly profile (drift, deepchecks,
// the candidate against production, load) on the main branch's build. The site's nightly
// job calls it, on a timer, with the team's repository:
//
//     @Library('harness@v0.2') _
//     harnessNightly(config: 'harness.yaml', repository: 'https://git.example/team/model.git',
//                    credentialsId: 'git', deploy: 'staging')
//
// With `deploy`, the night's build is deployed to that environment before the checks;
// without it, the checks judge what runs there already. docs/jenkins.md says more.
def call(Map args = [:]) {
    Map settings = harnessSettings(args, 'harnessNightly')
    pipeline {
        agent { label settings.agent }
        options {
            skipDefaultCheckout()
            disableConcurrentBuilds()
            timeout(time: 3, unit: 'HOURS')
            buildDiscarder(logRotator(numToKeepStr: '30'))
        }
        environment {
            HARNESS_CONFIG = "${settings.config}"
            HARNESS_PACKAGE = "${settings.harness}"
            HARNESS_REQUIREMENTS = "${settings.requirements}"
            HARNESS_VENV = "${settings.venv}"
            HARNESS = "${settings.venv}/bin/harness"
            HARNESS_PROFILE = "${settings.profile}"
            HARNESS_DEPLOY = "${settings.deploy}"
        }
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
            stage('Build model') {
                steps {
                    sh '"$HARNESS" build'
                }
            }
            stage('Deploy the build') {
                when { expression { settings.deploy != '' } }
                steps {
                    sh '"$HARNESS" deploy --env "$HARNESS_DEPLOY"'
                }
            }
            stage('Nightly checks') {
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
                publishHTML target: [reportName: 'Nightly report',
                                     reportDir: "reports/${settings.profile}/html",
                                     reportFiles: 'index.html', keepAll: true,
                                     alwaysLinkToLastBuild: true, allowMissing: true]
            }
        }
    }
}
