import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IvsClient } from "@aws-sdk/client-ivs";
import { MediaLiveClient } from "@aws-sdk/client-medialive";
import { SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * One client per service per process, created on first use. Endpoints come from the standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables, which is how the local runtime points the very same
 * handlers at its stand-ins.
 *
 * Media clients make a single attempt: the state machines own retries (visible in the history,
 * with jittered backoff), and two layers of retries would multiply each other.
 */
let medialiveClient: MediaLiveClient | undefined;
let ivsClient: IvsClient | undefined;
let sfnClient: SFNClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;

export const medialive = () => {
  medialiveClient ??= new MediaLiveClient({ maxAttempts: 1 });
  return medialiveClient;
};

export const ivs = () => {
  ivsClient ??= new IvsClient({ maxAttempts: 1 });
  return ivsClient;
};

export const sfn = () => {
  sfnClient ??= new SFNClient({});
  return sfnClient;
};

export const dynamo = () => {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
};
