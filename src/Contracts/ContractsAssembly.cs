namespace Sagas.Contracts; public static class ContractsAssembly { }
