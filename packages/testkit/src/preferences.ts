/** Session Manager's preferences as tests set them: the content of the SSM-SessionManagerRunShell document. */

/** The document's content with these `inputs` (s3BucketName, cloudWatchLogGroupName, runAsEnabled…). */
export const sessionPreferences = (inputs: Readonly<Record<string, unknown>>): string =>
  JSON.stringify({ schemaVersion: '1.0', description: 'Session Manager preferences', sessionType: 'Standard_Stream', inputs });
