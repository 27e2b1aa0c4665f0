/** GraphQL types of the clinic's people. Only the fields partners need: no email, phone or DOB. */
import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../graphql/relay.types.js";
import type { DoctorRecord, PatientRecord, UserRecord } from "./clinic.model.js";

/** Keys are the GraphQL names; values are the database's. */
export enum UserRole {
  PATIENT = "patient",
  DOCTOR = "doctor",
  ADMIN = "admin",
}
registerEnumType(UserRole, { name: "UserRole", description: "What a user is to the clinic." });

@ObjectType({ simpleResolvers: true, implements: Node, description: "A doctor of the clinic." })
export class Doctor extends Node {
  @Field(() => String)
  fullName!: string;

  @Field(() => String, { description: "Medical specialty, as the clinic records it." })
  specialty!: string;

  userId!: string;

  static from(record: DoctorRecord): Doctor {
    return Object.assign(new Doctor(), {
      id: record.id,
      fullName: record.fullName,
      specialty: record.specialty,
      userId: record.userId,
    });
  }
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "A patient of the clinic." })
export class Patient extends Node {
  @Field(() => String)
  fullName!: string;

  userId!: string;

  static from(record: PatientRecord): Patient {
    return Object.assign(new Patient(), { id: record.id, fullName: record.fullName, userId: record.userId });
  }
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "A person who signs in: a patient, a doctor or an admin." })
export class User extends Node {
  @Field(() => String)
  fullName!: string;

  @Field(() => UserRole)
  role!: UserRole;

  doctorId!: string | null;
  patientId!: string | null;

  static from(record: UserRecord): User {
    return Object.assign(new User(), {
      id: record.id,
      fullName: record.fullName,
      role: record.role as UserRole,
      doctorId: record.doctorId,
      patientId: record.patientId,
    });
  }
}
