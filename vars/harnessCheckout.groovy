// Checks out the team's repository: the job's own SCM (a multibranch or pipeline-from-SCM
// job), or the `repository` and `branch` of the settings (a job whose script is inline).
def call(Map settings) {
    if (settings.repository) {
        checkout([$class: 'GitSCM', branches: [[name: settings.branch]],
                  userRemoteConfigs: [[url: settings.repository,
                                       credentialsId: settings.credentialsId ?: null]]])
    } else {
        checkout scm
    }
}
